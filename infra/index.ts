// Stack program entry (Pulumi.yaml `main: infra/`): validate the config, then build the platform.
// Every key `buildPlatform` returns becomes a stack output (`pulumi stack output <key>`), including the ones
// the data tier and observability add per queue or per vault; `infra/stack.test.ts` runs this file to check it.
import { loadStackConfig } from "./config/load";
import { buildPlatform } from "./platform";

export = buildPlatform(loadStackConfig());
