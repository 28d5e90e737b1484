// Stack program entry (Pulumi.yaml `main: infra/`): validate the config, check its zones against the account's
// (one lookup, before any resource), then build the platform. The export is a promise; Pulumi awaits it.
// Every key `buildPlatform` returns becomes a stack output (`pulumi stack output <key>`), including the ones
// the data tier and observability add per queue or per vault; `infra/stack.test.ts` runs this file to check it.
import { loadStackConfig } from "./config/load";
import { buildStack } from "./platform";

export = buildStack(loadStackConfig());
