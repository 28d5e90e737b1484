/**
 * Refuses GraphQL operations that would cost too much before any resolver runs (a validation rule, so the
 * verdict is cached with the parsed query). Two limits, each named in the error it raises:
 *
 * - root fields (aliases count: `a: me b: me` is two) per operation: GRAPHQL_MAX_ROOT_FIELDS;
 * - cost: every selected field costs 1 (a message `body`, up to 4,000 characters, costs BODY_FIELD_COST),
 *   multiplied by the size of every list it sits in. A list's size is the `limit` argument of the field or its
 *   nearest ancestor that has one (`messages(limit: 200) { messages { ... } }`: 200; a variable counts as the
 *   largest limit accepted, 200; no limit: the resolver's default, 50), or LIST_SIZE for lists without a
 *   limit (rooms, members, unread, digest). GRAPHQL_MAX_COST.
 *
 * The third limit, on the size of the response, is applied when it is sent (registerGraphql).
 */
import {
  GraphQLError, getNamedType, getNullableType, isListType, isObjectType, Kind,
  type ASTVisitor, type FieldNode, type GraphQLObjectType, type SelectionSetNode, type ValidationContext, type ValueNode,
} from "graphql";

/** Assumed length of a list field without a `limit` argument (the digest answers at most 100). */
export const LIST_SIZE = 100;
/** The largest `limit` the api accepts, assumed for a limit given as a variable. */
export const LIMIT_MAX = 200;
/** The resolver's page size when no `limit` is given. */
export const LIMIT_DEFAULT = 50;
/** A message body can be 4,000 characters: selecting it weighs more than an id. */
export const BODY_FIELD_COST = 10;

export interface CostLimits {
  maxCost: number;
  maxRootFields: number;
}

export const TOO_EXPENSIVE = "query_too_expensive";

function limitOf(field: FieldNode): number | undefined {
  const arg = field.arguments?.find((a) => a.name.value === "limit");
  if (!arg) return undefined;
  const v: ValueNode = arg.value;
  if (v.kind === Kind.INT) return Math.max(1, Math.min(Number(v.value), LIMIT_MAX));
  if (v.kind === Kind.VARIABLE) return LIMIT_MAX;
  return LIMIT_DEFAULT;
}

/** The cost rule for the api's limits. */
export function costRule(limits: CostLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const schema = context.getSchema();

    /** Fields under `selectionSet` (fragments expanded), each counted once per enclosing list element. */
    const costOf = (selectionSet: SelectionSetNode, parent: GraphQLObjectType, pageSize: number | undefined, seen: Set<string>): number => {
      let total = 0;
      for (const sel of selectionSet.selections) {
        if (sel.kind === Kind.FRAGMENT_SPREAD) {
          const name = sel.name.value;
          const frag = context.getFragment(name);
          if (!frag || seen.has(name)) continue;
          const on = schema.getType(frag.typeCondition.name.value);
          if (isObjectType(on)) total += costOf(frag.selectionSet, on, pageSize, new Set([...seen, name]));
          continue;
        }
        if (sel.kind === Kind.INLINE_FRAGMENT) {
          const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
          if (isObjectType(on)) total += costOf(sel.selectionSet, on, pageSize, seen);
          continue;
        }
        const def = parent.getFields()[sel.name.value];
        if (!def) continue; // unknown fields are reported by GraphQL's own rules
        const own = sel.name.value === "body" ? BODY_FIELD_COST : 1;
        const limit = limitOf(sel) ?? (sel.name.value === "messages" && parent === schema.getQueryType() ? LIMIT_DEFAULT : undefined);
        const innerPage = limit ?? pageSize;
        const type = getNullableType(def.type);
        const times = isListType(type) ? innerPage ?? LIST_SIZE : 1;
        const named = getNamedType(def.type);
        const children = sel.selectionSet && isObjectType(named) ? costOf(sel.selectionSet, named, isListType(type) ? undefined : innerPage, seen) : 0;
        total += times * (own + children);
      }
      return total;
    };

    return {
      OperationDefinition(op) {
        const root = op.operation === "mutation" ? schema.getMutationType() : op.operation === "query" ? schema.getQueryType() : schema.getSubscriptionType();
        if (!root) return;
        const rootFields = op.selectionSet.selections.length;
        if (rootFields > limits.maxRootFields) {
          context.reportError(new GraphQLError(
            `the operation selects ${rootFields} root fields (aliases count); the limit is ${limits.maxRootFields} (GRAPHQL_MAX_ROOT_FIELDS): split it into several requests`,
            { nodes: [op], extensions: { code: TOO_EXPENSIVE, limit: "GRAPHQL_MAX_ROOT_FIELDS" } },
          ));
        }
        const cost = costOf(op.selectionSet, root, undefined, new Set());
        if (cost > limits.maxCost) {
          context.reportError(new GraphQLError(
            `the operation costs ${cost} (fields x list limits); the limit is ${limits.maxCost} (GRAPHQL_MAX_COST): ask for fewer fields, aliases or smaller limits`,
            { nodes: [op], extensions: { code: TOO_EXPENSIVE, limit: "GRAPHQL_MAX_COST", cost } },
          ));
        }
      },
    };
  };
}
