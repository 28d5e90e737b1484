// Stack program entry (Pulumi.yaml `main: infra/`): validate the config, then build the platform.
import { loadStackConfig } from "./config/load";
import { buildPlatform } from "./platform";

const outputs = buildPlatform(loadStackConfig());

export const vpcId = outputs.vpcId;
export const vpcCidr = outputs.vpcCidr;
export const publicSubnetIds = outputs.publicSubnetIds;
export const privateSubnetIds = outputs.privateSubnetIds;
export const albDnsName = outputs.albDnsName;
export const albArnSuffix = outputs.albArnSuffix;
export const albSecurityGroupId = outputs.albSecurityGroupId;
export const albAccessLogBucket = outputs.albAccessLogBucket;
export const apiTargetGroupArn = outputs.apiTargetGroupArn;
export const apiTargetGroupArnSuffix = outputs.apiTargetGroupArnSuffix;
export const realtimeTargetGroupArn = outputs.realtimeTargetGroupArn;
export const realtimeTargetGroupArnSuffix = outputs.realtimeTargetGroupArnSuffix;
export const wafAclArn = outputs.wafAclArn;
export const wafLogGroupName = outputs.wafLogGroupName;
export const ecsClusterName = outputs.ecsClusterName;
export const apiServiceName = outputs.apiServiceName;
export const realtimeServiceName = outputs.realtimeServiceName;
export const workersServiceName = outputs.workersServiceName;
export const ecrRepositoryUrls = outputs.ecrRepositoryUrls;
