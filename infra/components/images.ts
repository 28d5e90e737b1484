import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { contextImageTag } from "./context-hash";
import { Problems } from "./problems";
import { RETAIN, type RemovalPolicy } from "./removal";

/** Tag of the registry build cache in each repository. */
export const DEFAULT_CACHE_TAG = "buildcache";

export interface RegistryAuth {
  address: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
}

export interface ServiceImagesArgs {
  /** `<project>-<env>`: repositories are `<prefix>-<service>`. */
  namePrefix: string;
  /** Services to hold images for (`api`, `realtime`, `workers`). */
  services: string[];
  /**
   * Image URIs that CI built already, by service. A service listed here gets no build resource and runs this
   * image; the others are built from `apps/<service>/Dockerfile`. Give all three to keep builds out of deploys.
   */
  imageUris?: Record<string, string | undefined>;
  /** Repository root: the build context (the Dockerfiles copy the shared workspace). Needed when anything is built. */
  contextDir?: string;
  /**
   * Tag of built images (all services). Tags are immutable, so each build needs a new one.
   * @default per service, `contextImageTag`: a hash of the Dockerfile and the context files it copies
   */
  tag?: string;
  /** Credentials for pushing to ECR (from `aws.ecr.getAuthorizationToken` in the program). Needed when anything is built. */
  registryAuth?: RegistryAuth;
  /** Target platform of built images; must match the task definitions' cpu architecture. @default "linux/amd64" */
  platform?: "linux/amd64" | "linux/arm64";
  /** Tagged images kept per repository; older ones expire (untagged ones after a day). @default 30 */
  keepImages?: number;
  /**
   * Tag of the BuildKit layer cache kept in each repository (the one tag exempt from immutability, so every
   * build can refresh it; release tags stay immutable). `null` turns the cache off. @default "buildcache"
   */
  buildCacheTag?: string | null;
  /** `emptyOnDestroy`: `pulumi destroy` deletes repositories that still hold images. @default RETAIN */
  removal?: RemovalPolicy;
  /** Tags on every repository. */
  tags?: Record<string, string>;
}

/** Services that will be built (no URI configured). */
export function servicesToBuild(args: Pick<ServiceImagesArgs, "services" | "imageUris">): string[] {
  return args.services.filter((s) => !args.imageUris?.[s]);
}

/** Every wiring problem with the plain arguments (field, value, fix). */
export function serviceImagesProblems(args: ServiceImagesArgs): Problems {
  const p = new Problems("ServiceImages");
  const bad = (field: string, value: unknown, allowed: string) => p.add(field, value, allowed);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(args.namePrefix)) bad("namePrefix", args.namePrefix, "lowercase letters, digits and '-' (ECR repository names)");
  if (new Set(args.services).size !== args.services.length || args.services.length === 0) bad("services", args.services, "a non-empty list without repeats");
  for (const s of Object.keys(args.imageUris ?? {})) {
    if (!args.services.includes(s)) bad(`imageUris.${s}`, args.imageUris![s], `no such service; allowed: ${args.services.join(", ")}`);
  }
  const built = servicesToBuild(args);
  if (built.length) {
    const why = `needed to build ${built.join(", ")} (or configure image URIs for them)`;
    if (!args.contextDir) bad("contextDir", args.contextDir, why);
    if (args.tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(args.tag)) bad("tag", args.tag, "a Docker tag (letters, digits, '_', '.', '-', at most 128), or none for the content hash");
    if (!args.registryAuth) bad("registryAuth", undefined, why);
  }
  const cache = args.buildCacheTag;
  if (cache !== undefined && cache !== null && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(cache)) bad("buildCacheTag", cache, "a Docker tag without wildcards, or null for no cache");
  if (cache !== null && args.tag !== undefined && args.tag === (cache ?? DEFAULT_CACHE_TAG)) bad("tag", args.tag, "is the build cache tag; pick another tag");
  const keep = args.keepImages;
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1 || keep > 1000)) bad("keepImages", keep, "must be a whole number from 1 to 1000");
  return p;
}

/** Throws one error naming each bad field, its value and the fix. */
export function validateServiceImagesArgs(args: ServiceImagesArgs): void {
  serviceImagesProblems(args).check();
}

/** Dockerfiles of the services to build that do not exist (the build would fail at `pulumi up`). */
export function missingDockerfiles(args: ServiceImagesArgs): string[] {
  if (!args.contextDir) return [];
  return servicesToBuild(args).map((s) => join(args.contextDir!, "apps", s, "Dockerfile")).filter((f) => !existsSync(f));
}

/** ECR lifecycle rules: untagged images go after a day, tagged ones beyond the newest `keep`. */
export function lifecyclePolicy(keep: number): Record<string, unknown> {
  return {
    rules: [
      {
        rulePriority: 1,
        description: "Expire untagged images (layers of superseded builds) after a day",
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${keep} images for rollbacks`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}

/** Tag of `service`'s image when none is configured: the content hash of what its Dockerfile copies. */
export function serviceImageTag(contextDir: string, service: string): string {
  return contextImageTag(contextDir, join(contextDir, "apps", service, "Dockerfile"));
}

/**
 * One ECR repository per service (immutable tags except the build cache's, scan on push, AES-256 at rest,
 * lifecycle) and, for each
 * service without a configured image URI, a BuildKit build of `apps/<service>/Dockerfile` (context: the
 * repository root) pushed to its repository. `imageUris[service]` is what the task definition runs: the
 * pushed image by digest, or the configured URI.
 */
export class ServiceImages extends pulumi.ComponentResource {
  readonly repositories: Record<string, aws.ecr.Repository> = {};
  readonly repositoryUrls: Record<string, pulumi.Output<string>> = {};
  readonly repositoryArns: Record<string, pulumi.Output<string>> = {};
  readonly imageUris: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: ServiceImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:images:ServiceImages", name, {}, opts);
    validateServiceImagesArgs(args);
    const tags = args.tags ?? {};
    const child = { parent: this };
    const build = new Set(servicesToBuild(args));
    const cacheTag = args.buildCacheTag === null ? undefined : (args.buildCacheTag ?? DEFAULT_CACHE_TAG);
    for (const file of missingDockerfiles(args)) {
      pulumi.log.warn(`${name}: ${file} does not exist; \`pulumi up\` cannot build that image. Add the Dockerfile or configure ` +
        "the service's image URI (realtime-chat:<service>Image).", this);
    }

    for (const svc of args.services) {
      const repoName = `${args.namePrefix}-${svc}`;
      const repo = new aws.ecr.Repository(`${name}-${svc}`, {
        name: repoName,
        imageTagMutability: cacheTag ? "IMMUTABLE_WITH_EXCLUSION" : "IMMUTABLE",
        imageTagMutabilityExclusionFilters: cacheTag ? [{ filter: cacheTag, filterType: "WILDCARD" }] : undefined,
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        forceDelete: (args.removal ?? RETAIN).emptyOnDestroy,
        tags: { ...tags, Name: repoName, Service: svc },
      }, child);
      new aws.ecr.LifecyclePolicy(`${name}-${svc}-lifecycle`, {
        repository: repo.name,
        policy: JSON.stringify(lifecyclePolicy(args.keepImages ?? 30)),
      }, child);
      this.repositories[svc] = repo;
      this.repositoryUrls[svc] = repo.repositoryUrl;
      this.repositoryArns[svc] = repo.arn;

      if (build.has(svc)) {
        const auth = args.registryAuth!;
        const image = new dockerBuild.Image(`${name}-${svc}-image`, {
          context: { location: args.contextDir! },
          dockerfile: { location: join(args.contextDir!, "apps", svc, "Dockerfile") },
          platforms: [args.platform ?? "linux/amd64"],
          push: true,
          // previews do not build: the image is unknown until `pulumi up`
          buildOnPreview: false,
          tags: [pulumi.interpolate`${repo.repositoryUrl}:${args.tag ?? serviceImageTag(args.contextDir!, svc)}`],
          // layers of earlier builds from the registry, so fresh CI runners do not start from scratch
          cacheFrom: cacheTag ? [{ registry: { ref: pulumi.interpolate`${repo.repositoryUrl}:${cacheTag}` } }] : undefined,
          cacheTo: cacheTag
            ? [{ registry: { ref: pulumi.interpolate`${repo.repositoryUrl}:${cacheTag}`, mode: "max", imageManifest: true, ociMediaTypes: true } }]
            : undefined,
          registries: [{ address: auth.address, username: auth.username, password: pulumi.secret(auth.password) }],
          labels: { "org.opencontainers.image.title": repoName },
        }, child);
        this.imageUris[svc] = image.ref;
      } else {
        this.imageUris[svc] = pulumi.output(args.imageUris![svc]!);
      }
    }
    this.registerOutputs({ repositoryUrls: this.repositoryUrls, imageUris: this.imageUris });
  }
}
