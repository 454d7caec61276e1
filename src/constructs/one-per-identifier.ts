// Refuses a second construct of a kind with the same RDS identifier in one stack: its instance, secrets,
// KMS alias and provider aliases would all carry the same names, which Terraform or AWS would reject
// only at plan or apply. Two databases in one stack are fine with an identifier each.

import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { InvalidInputError } from "../config/rules";

const identifiersByStack = new WeakMap<TerraformStack, Map<string, string>>();

export function claimIdentifier(construct: Construct, kind: string, identifier: string): void {
  const stack = TerraformStack.of(construct);
  const claimed = identifiersByStack.get(stack) ?? new Map<string, string>();
  identifiersByStack.set(stack, claimed);
  const key = `${kind} ${identifier}`;
  const first = claimed.get(key);
  if (first !== undefined) {
    throw new InvalidInputError(
      `${kind} ${construct.node.path}: identifier "${identifier}" is already used by ${first} in stack ${stack.node.id}: ` +
        `give each database in a stack its own identifier (the identifier prop).`,
    );
  }
  claimed.set(key, construct.node.path);
}
