// An ephemeral aws_secretsmanager_secret_version (hashicorp/aws ≥ 5.83, Terraform ≥ 1.10): the secret
// is read each time Terraform runs, plan and apply alike, and stored in neither the state nor a saved
// plan. cdktf 0.21 predates ephemeral blocks, so this element renders the block itself.

import { ref, TerraformElement, Token } from "cdktf";
import { Construct } from "constructs";

export interface EphemeralSecretVersionProps {
  /** ARN or name of the secret. */
  readonly secretId: string;
}

const TYPE = "aws_secretsmanager_secret_version";

export class EphemeralSecretVersion extends TerraformElement {
  private readonly secretId: string;

  constructor(scope: Construct, id: string, props: EphemeralSecretVersionProps) {
    super(scope, id, `ephemeral.${TYPE}`);
    this.secretId = props.secretId;
  }

  /** The secret's current (AWSCURRENT) string value, as an ephemeral Terraform expression. */
  public get secretString(): string {
    return Token.asString(ref(`ephemeral.${TYPE}.${this.friendlyUniqueId}.secret_string`, this.cdktfStack));
  }

  public override toTerraform(): Record<string, unknown> {
    return { ephemeral: { [TYPE]: { [this.friendlyUniqueId]: { secret_id: this.secretId } } } };
  }
}
