import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Problems } from "./problems";

/** DNS name rule shared with the `domainName` config key (lowercase labels, a TLD of letters). */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;
/** Route 53 API reference, HostedZone.Id: at most 32 characters; public zone ids are `Z` + upper-case letters and digits. */
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

export interface SiteCertificateArgs {
  /** The site's DNS name (one name, no wildcard): the certificate's subject. Changing it replaces the certificate. */
  domainName: string;
  /** Public hosted zone holding `domainName`; the validation record goes there. */
  hostedZoneId: string;
  tags?: Record<string, string>;
}

/** Every problem with the plain arguments (field, value, fix). */
export function siteCertificateProblems(args: Pick<SiteCertificateArgs, "domainName" | "hostedZoneId">): Problems {
  const p = new Problems("SiteCertificate");
  if (!DNS_NAME.test(args.domainName)) p.add("domainName", args.domainName, "a DNS name like chat.example.com (lowercase, no wildcard)");
  if (!ZONE_ID.test(args.hostedZoneId)) p.add("hostedZoneId", args.hostedZoneId, "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without /hostedzone/)");
  return p;
}

/**
 * An ACM certificate for the site's name, validated through DNS: the component writes ACM's validation CNAME
 * into the hosted zone and waits (`CertificateValidation`) until ACM issues the certificate, so the HTTPS
 * listener that takes `certificateArn` is only created with an issued certificate. ACM renews it on its own
 * while the validation record stays. The record may already exist (ACM derives it from the name and the
 * account, so a DR stack certifying the same name writes the same record): it is overwritten, not refused.
 */
export class SiteCertificate extends pulumi.ComponentResource {
  /** ARN of the issued certificate (known once validation has completed). */
  readonly certificateArn: pulumi.Output<string>;

  constructor(name: string, args: SiteCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:dns:SiteCertificate", name, {}, opts);
    siteCertificateProblems(args).check();
    const child = { parent: this };
    const certificate = new aws.acm.Certificate(`${name}-cert`, {
      domainName: args.domainName,
      validationMethod: "DNS",
      keyAlgorithm: "RSA_2048",
      tags: { ...args.tags, Name: args.domainName },
    }, { parent: this });
    // One name, so exactly one validation option: its record is created from outputs, never inside an apply.
    const option = certificate.domainValidationOptions.apply((o) => {
      const first = o?.[0];
      if (!first) throw new Error(`SiteCertificate ${args.domainName}: ACM reported no DNS validation record`);
      return first;
    });
    const record = new aws.route53.Record(`${name}-validation`, {
      zoneId: args.hostedZoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    }, child);
    const validation = new aws.acm.CertificateValidation(`${name}-validation`, {
      certificateArn: certificate.arn,
      validationRecordFqdns: [record.fqdn],
    }, child);
    this.certificateArn = validation.certificateArn;
    this.registerOutputs({ certificateArn: this.certificateArn });
  }
}

export interface SiteAliasArgs {
  domainName: string;
  hostedZoneId: string;
  /** The load balancer's DNS name and hosted zone (alias target). */
  target: { dnsName: pulumi.Input<string>; zoneId: pulumi.Input<string> };
  /**
   * Take over a record that already exists (a DR stack pointing the site at its own load balancer during a
   * failover). Such a record is also kept when its stack is destroyed: after fail-back the primary owns the
   * name again. @default false: a second stack claiming the name by mistake fails instead.
   */
  takeOver?: boolean;
}

/** Route 53 alias `A` record: the site's name -> the load balancer (IPv4; the ALB is IPv4-only). */
export class SiteAlias extends pulumi.ComponentResource {
  readonly fqdn: pulumi.Output<string>;

  constructor(name: string, args: SiteAliasArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:dns:SiteAlias", name, {}, opts);
    siteCertificateProblems(args).check();
    const record = new aws.route53.Record(`${name}-a`, {
      zoneId: args.hostedZoneId,
      name: args.domainName,
      type: "A",
      aliases: [{ name: args.target.dnsName, zoneId: args.target.zoneId, evaluateTargetHealth: true }],
      allowOverwrite: args.takeOver ?? false,
      // a DR stack retired after fail-back must not delete the name the primary owns again (docs/DR.md, 3a)
    }, { parent: this, retainOnDelete: args.takeOver ?? false });
    this.fqdn = record.fqdn;
    this.registerOutputs({ fqdn: this.fqdn });
  }
}
