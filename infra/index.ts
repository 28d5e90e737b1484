// Stack program entry (Pulumi.yaml `main: infra/`): validate the config, then build the platform.
import { loadStackConfig } from "./config/load";
import { buildPlatform } from "./platform";

const outputs = buildPlatform(loadStackConfig());

export const vpcId = outputs.vpcId;
export const vpcCidr = outputs.vpcCidr;
export const publicSubnetIds = outputs.publicSubnetIds;
export const privateSubnetIds = outputs.privateSubnetIds;
