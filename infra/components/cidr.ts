/** IPv4 CIDR arithmetic for subnet layout (no lookups, deterministic). */

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The `index`-th block of size `/newPrefix` inside `cidr` (negative index counts from the end). */
export function subnetCidr(cidr: string, newPrefix: number, index: number): string {
  const [ip, p] = cidr.split("/");
  const prefix = Number(p);
  if (newPrefix < prefix || newPrefix > 28) throw new Error(`subnetCidr: /${newPrefix} does not fit in ${cidr}`);
  const count = 2 ** (newPrefix - prefix);
  const i = index < 0 ? count + index : index;
  if (i < 0 || i >= count) throw new Error(`subnetCidr: block ${index} is outside ${cidr} split into /${newPrefix}`);
  return `${toIp(toInt(ip!) + i * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

/**
 * Layout for `zones` zones: private subnets are the first /(prefix+4) blocks (room for many tasks);
 * public subnets are /(prefix+8) blocks carved from the LAST /(prefix+4) block (only ALB and NAT live there).
 */
export function subnetLayout(cidr: string, zones: number): { public: string[]; private: string[] } {
  const prefix = Number(cidr.split("/")[1]);
  const lastBlock = subnetCidr(cidr, prefix + 4, -1);
  return {
    private: Array.from({ length: zones }, (_, i) => subnetCidr(cidr, prefix + 4, i)),
    public: Array.from({ length: zones }, (_, i) => subnetCidr(lastBlock, prefix + 8, i)),
  };
}
