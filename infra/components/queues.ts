import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, inRange } from "./aws-limits";
import { Problems } from "./problems";
import type { Link } from "./link";
import type { PolicyStatement } from "./policy";

/** The work queues, each with its dead-letter queue. */
export const QUEUE_KINDS = ["push", "offline"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** What a worker may do on its queues; nothing more (no purge, no delete queue, no `sqs:*`). */
export const CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"];
/** What the api and realtime services may do: send, nothing else. */
export const PRODUCER_ACTIONS = ["sqs:SendMessage"];

export interface QueuesArgs {
  /** `<project>-<env>`: queues are `<prefix>-push`, `<prefix>-push-dlq`, `<prefix>-offline`, `<prefix>-offline-dlq`. */
  namePrefix: string;
  /** Receives before a message moves to its DLQ, 1 to 1000. */
  maxReceiveCount: number;
  /** Longest time a worker spends on one job, seconds (JOB_TIMEOUT_MS / 1000). */
  consumerTimeoutSeconds: number;
  /** Visibility timeout, seconds: must exceed consumerTimeoutSeconds, or a slow job is handed to a second worker. */
  visibilityTimeoutSeconds: number;
  /** Days a message waits in a work queue, 1 to 14. */
  messageRetentionDays: number;
  /** Days a message stays in a DLQ, 1 to 14; at least the work queue's so redrive is possible. @default 14 */
  dlqRetentionDays?: number;
  tags?: Record<string, string>;
}

/** Every problem with the plain arguments (field, value, fix). */
/** Days a dead-letter queue keeps a message when the caller does not say, written once. */
export const DLQ_RETENTION_DAYS_DEFAULT = 14;

export function queuesProblems(args: QueuesArgs): Problems {
  const p = new Problems("Queues");
  const bad = (field: string, value: unknown, fix: string) => p.add(field, value, fix);
  if (!/^[a-z][a-z0-9-]{0,60}$/.test(args.namePrefix)) bad("namePrefix", args.namePrefix, "use lowercase letters, digits and '-' (at most 61 characters)");
  const receives = AWS_LIMITS.sqs.maxReceiveCount;
  if (!inRange(args.maxReceiveCount, receives)) {
    bad("maxReceiveCount", args.maxReceiveCount, `must be a whole number from ${receives.min} to ${receives.max} (0 would dead-letter nothing and retry forever)`);
  }
  if (!Number.isInteger(args.consumerTimeoutSeconds) || args.consumerTimeoutSeconds < 1) bad("consumerTimeoutSeconds", args.consumerTimeoutSeconds, "must be a whole number of seconds >= 1");
  const visibility = AWS_LIMITS.sqs.visibilityTimeoutSeconds;
  if (!inRange(args.visibilityTimeoutSeconds, visibility)) {
    bad("visibilityTimeoutSeconds", args.visibilityTimeoutSeconds, `must be a whole number of seconds up to ${visibility.max} (12 hours)`);
  } else if (args.visibilityTimeoutSeconds <= args.consumerTimeoutSeconds) {
    bad("visibilityTimeoutSeconds", args.visibilityTimeoutSeconds,
      `must be longer than consumerTimeoutSeconds (${args.consumerTimeoutSeconds}), or a job still running becomes visible and runs twice; e.g. ${args.consumerTimeoutSeconds + 30}`);
  }
  const days = (field: string, v: number) => {
    if (!inRange(v, { min: 1, max: MAX_RETENTION_DAYS })) bad(field, v, `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (SQS limit)`);
  };
  days("messageRetentionDays", args.messageRetentionDays);
  const dlqDays = args.dlqRetentionDays ?? DLQ_RETENTION_DAYS_DEFAULT;
  days("dlqRetentionDays", dlqDays);
  if (dlqDays < args.messageRetentionDays) {
    bad("dlqRetentionDays", dlqDays, `must be at least messageRetentionDays (${args.messageRetentionDays}): a message keeps its original age in the DLQ`);
  }
  return p;
}

/** Throws one error listing every problem with the plain arguments. */
export function validateQueuesArgs(args: QueuesArgs): void {
  queuesProblems(args).check();
}

export interface QueuePair {
  queue: aws.sqs.Queue;
  dlq: aws.sqs.Queue;
}

const DAY = 86_400;
/** Longest SQS message retention, whole days (14). */
const MAX_RETENTION_DAYS = AWS_LIMITS.sqs.messageRetentionSeconds.max / DAY;

/**
 * The push-notification and offline-message queues. Each has a dead-letter queue that admits only its own
 * source queue (redrive allow policy `byQueue`), keeps messages 14 days, and receives a message after
 * `maxReceiveCount` failed receives. All four are encrypted (SSE-SQS) and refuse requests without TLS.
 */
export class Queues extends pulumi.ComponentResource {
  readonly pairs: Record<QueueKind, QueuePair>;
  private readonly consumerTimeoutSeconds: number;
  private readonly visibilityTimeoutSeconds: number;

  constructor(name: string, args: QueuesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:messaging:Queues", name, {}, opts);
    validateQueuesArgs(args);
    this.consumerTimeoutSeconds = args.consumerTimeoutSeconds;
    this.visibilityTimeoutSeconds = args.visibilityTimeoutSeconds;
    this.pairs = {} as Record<QueueKind, QueuePair>;
    for (const kind of QUEUE_KINDS) this.pairs[kind] = this.createPair(name, kind, args);
    this.registerOutputs(Object.fromEntries(QUEUE_KINDS.map((k) => [`${k}QueueUrl`, this.pairs[k].queue.url])));
  }

  url(kind: QueueKind): pulumi.Output<string> {
    return this.pairs[kind].queue.url;
  }

  /** Send to every work queue (api, realtime). */
  producerStatement(): PolicyStatement {
    return { Sid: "SendJobs", Effect: "Allow", Action: PRODUCER_ACTIONS, Resource: QUEUE_KINDS.map((k) => this.pairs[k].queue.arn) };
  }

  /** Receive, delete and extend visibility on the work queues (workers); the DLQs are for operators. */
  consumerStatement(): PolicyStatement {
    return { Sid: "ConsumeJobs", Effect: "Allow", Action: CONSUMER_ACTIONS, Resource: QUEUE_KINDS.map((k) => this.pairs[k].queue.arn) };
  }

  /**
   * What a client needs to send to (`producer`) or consume from (`consumer`) the queues of `kinds`: their URLs
   * (`PUSH_QUEUE_URL`, `OFFLINE_QUEUE_URL`) and one statement scoped to exactly those queues. A consumer also
   * gets its job deadline and the visibility timeout. The dead-letter queues are for operators: no link.
   */
  link(role: "producer" | "consumer", kinds: readonly QueueKind[]): Link {
    const used = QUEUE_KINDS.filter((k) => kinds.includes(k));
    if (used.length === 0) throw new Error("Queues.link: kinds is empty; name the queues the client uses (push, offline)");
    const base = role === "producer" ? this.producerStatement() : this.consumerStatement();
    const environment: Record<string, pulumi.Input<string>> =
      Object.fromEntries(used.map((k) => [`${k.toUpperCase()}_QUEUE_URL`, this.url(k)]));
    if (role === "consumer") {
      environment.JOB_TIMEOUT_MS = String(this.consumerTimeoutSeconds * 1000);
      environment.VISIBILITY_TIMEOUT_S = String(this.visibilityTimeoutSeconds);
    }
    return { environment, statements: [{ ...base, Resource: used.map((k) => this.pairs[k].queue.arn) }] };
  }

  private createPair(name: string, kind: QueueKind, args: QueuesArgs): QueuePair {
    const child = { parent: this };
    // A fixed name cannot exist twice: a replacement deletes the old queue first (SQS refuses the name for 60 s
    // after a delete; the provider retries the create meanwhile).
    const fixedName = { parent: this, deleteBeforeReplace: true };
    const queueName = `${args.namePrefix}-${kind}`;
    const dlq = new aws.sqs.Queue(`${name}-${kind}-dlq`, {
      name: `${queueName}-dlq`,
      messageRetentionSeconds: (args.dlqRetentionDays ?? DLQ_RETENTION_DAYS_DEFAULT) * DAY,
      sqsManagedSseEnabled: true,
      tags: { ...args.tags, Name: `${queueName}-dlq` },
    }, fixedName);
    const queue = new aws.sqs.Queue(`${name}-${kind}`, {
      name: queueName,
      visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
      messageRetentionSeconds: args.messageRetentionDays * DAY,
      receiveWaitTimeSeconds: 20,
      sqsManagedSseEnabled: true,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: args.maxReceiveCount }),
      tags: { ...args.tags, Name: queueName },
    }, fixedName);
    // A separate resource: the DLQ must exist before the queue names it, and the allow policy names the queue.
    new aws.sqs.RedriveAllowPolicy(`${name}-${kind}-dlq-allow`, {
      queueUrl: dlq.url,
      redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }),
    }, child);
    for (const [role, q] of [[kind, queue], [`${kind}-dlq`, dlq]] as const) {
      new aws.sqs.QueuePolicy(`${name}-${role}-tls-only`, {
        queueUrl: q.url,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{
            Sid: "DenyWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: "sqs:*",
            Resource: q.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }],
        }),
      }, child);
    }
    return { queue, dlq };
  }
}
