// Validation rules that bound what one operation may ask for: selection depth and estimated cost.
import { GraphQLError, getNamedType, isLeafType, isListType, getNullableType, Kind, type ASTNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode, type ValidationContext, type ValidationRule } from "graphql";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";

/** Limits of {@link operationLimitRules}. */
export interface OperationLimits {
  /** Deepest allowed field nesting (a top-level field is depth 1). */
  readonly maxDepth: number;
  /** Largest allowed estimated cost. */
  readonly maxCost: number;
}

/** Multiplier of list fields that take no `first` argument (their size is unknown up front). */
const DEFAULT_LIST_SIZE = 10;

/**
 * Cost of a field = 1 + children × (its `first` argument for connections, 1 for a connection's
 * `edges`, DEFAULT_LIST_SIZE for other lists of objects, 1 otherwise). So `studies(first: 20) { edges { node { slices(first: 100) … } } }`
 * costs about 20 × 100 per leaf.
 */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const type = getNullableType(field.type);
  const first = typeof args.first === "number" ? args.first : null;
  if (first !== null) return 1 + childComplexity * Math.max(first, 1);
  // A connection's `edges` list is as long as its parent's `first`, which is already counted.
  if (field.name === "edges") return 1 + childComplexity;
  if (isListType(type) && !isLeafType(getNamedType(type))) return 1 + childComplexity * DEFAULT_LIST_SIZE;
  return 1 + childComplexity;
};

/** Rejects operations nested deeper than `maxDepth` (fragments expanded, introspection fields ignored). */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    const measure = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): number => {
      if (!set) return depth;
      let deepest = depth;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith("__")) continue;
          deepest = Math.max(deepest, measure(sel.selectionSet, depth + 1, seen));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, measure(sel.selectionSet, depth, seen));
        } else {
          const frag = fragments.get(sel.name.value);
          if (frag && !seen.has(frag.name.value)) deepest = Math.max(deepest, measure(frag.selectionSet, depth, new Set([...seen, frag.name.value])));
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = measure(node.selectionSet, 0, new Set());
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`operation depth ${depth} exceeds the limit of ${maxDepth}`, { nodes: [node as ASTNode], extensions: { code: "QUERY_TOO_DEEP", depth, maxDepth } }));
        }
      },
    };
  };
}

/**
 * Estimated cost of an operation with its actual variables, or null when it cannot be estimated
 * (e.g. a required variable is missing: execution then reports that error with its own code).
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName?: string | null): number | null {
  try {
    return getComplexity({ schema, query: document, variables, estimators: [estimator], ...(operationName ? { operationName } : {}) });
  } catch {
    return null;
  }
}

/** The error reported when an operation costs too much. */
export function costError(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(`operation cost ${cost} exceeds the limit of ${maxCost}`, { extensions: { code: "QUERY_TOO_COSTLY", cost, maxCost } });
}
