// Policy pack entry: `pulumi preview --policy-pack infra/policy/pack --policy-pack-config infra/policy/pack/config/<tier>.json`.
// The rules live in ../rules.ts (shared with the offline plan); policies.ts adapts them.
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("realtime-chat-policy", { policies: POLICIES });
