// The stacks' Terraform input variables, each declared with its validation blocks in one style, so an
// operator's TF_VAR_… is held to the same rule (src/config/rules.ts) as the construct's prop.

import { TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";

/** A Terraform condition and, in words, what passes it. */
export type Condition = [condition: string, allowed: string];

export class InputVariables {
  constructor(private readonly stack: Construct) {}

  string(name: string, description: string, defaultValue: string | undefined, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "string", description, defaultValue, conditions);
  }

  number(name: string, description: string, defaultValue: number, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "number", description, defaultValue, conditions);
  }

  bool(name: string, description: string, defaultValue: boolean): TerraformVariable {
    return this.declare(name, "bool", description, defaultValue, []);
  }

  list(name: string, description: string, defaultValue: string[] | undefined, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "list(string)", description, defaultValue, conditions);
  }

  /** A string that may be left null: then the construct's own value applies. */
  optionalString(name: string, description: string): TerraformVariable {
    return new TerraformVariable(this.stack, name, { type: "string", description, default: Token.nullValue(), nullable: true });
  }

  /** A number that may be left null (its default, unless given); its conditions apply only when it is set. */
  optionalNumber(name: string, description: string, defaultValue: number | undefined, ...conditions: Condition[]): TerraformVariable {
    const variable = new TerraformVariable(this.stack, name, {
      type: "number",
      description,
      default: defaultValue ?? Token.nullValue(),
      nullable: true,
    });
    for (const [condition, allowed] of conditions) {
      // A conditional, not ||: Terraform evaluates both sides of || and floor(null) is an error.
      variable.addValidation({ condition: `\${var.${name} == null ? true : (${condition})}`, errorMessage: errorMessage(name, allowed) });
    }
    return variable;
  }

  /** Adds a condition that holds whether or not the (nullable) variable is set. */
  require(variable: TerraformVariable, [condition, allowed]: Condition): void {
    variable.addValidation({ condition: `\${${condition}}`, errorMessage: errorMessage(variable.node.id, allowed) });
  }

  private declare(name: string, type: string, description: string, defaultValue: unknown, conditions: Condition[]): TerraformVariable {
    // No default means the operator must supply it (TF_VAR_<name>, -var, or a .tfvars file).
    const variable = new TerraformVariable(this.stack, name, { type, description, default: defaultValue, nullable: false });
    for (const [condition, allowed] of conditions) {
      variable.addValidation({ condition: `\${${condition}}`, errorMessage: errorMessage(name, allowed) });
    }
    return variable;
  }
}

function errorMessage(name: string, allowed: string): string {
  // Terraform requires a validation message to be a sentence ending with a period.
  return `${name}: allowed is ${allowed}.`;
}
