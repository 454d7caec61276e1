// The key policy of the PULSE Analytics Postgres KMS key: the account's IAM policies stay in force,
// and the roles that deploy and plan are named in the policy itself.
//
// Why name them: permissions that an IAM policy grants on a key by its tags (ABAC) take up to five
// minutes to apply to a new key (AWS KMS, "ABAC for AWS KMS"), while RDS, Secrets Manager and
// Performance Insights use the key seconds after Terraform creates it. A key policy that names a
// principal is enough on its own for that principal in the same account.

export interface KmsKeyPolicyInput {
  /** `arn:<partition>:iam::<account>:root`: lets IAM policies of the account grant access too. */
  readonly accountRootArn: string;
  /** The key's region, for kms:ViaService (`rds.<region>.amazonaws.com`, …). */
  readonly region: string;
  /** Roles that administer the key and use it through RDS and Secrets Manager (the deploying role). */
  readonly administratorArns: readonly string[];
  /** Roles that read the secrets the key encrypts and describe the key (the plan role). */
  readonly userArns: readonly string[];
  /** AWS services that publish to a topic the key encrypts (RDS events, CloudWatch alarms). */
  readonly topicPublishers: readonly string[];
}

/** What Terraform's refresh of the key reads (aws_kms_key Read). */
const DESCRIBE_ACTIONS = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"];

/** Actions that change or read the key itself; none of them encrypts or decrypts data. */
const ADMINISTRATION_ACTIONS = [
  ...DESCRIBE_ACTIONS,
  "kms:PutKeyPolicy",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:UpdateKeyDescription",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/** The key policy as a JSON string; ARNs may hold Terraform references (account id, partition). */
export function kmsKeyPolicy(input: KmsKeyPolicyInput): string {
  const via = (...services: string[]) => ({
    StringEquals: { "kms:ViaService": services.map((service) => `${service}.${input.region}.amazonaws.com`) },
  });
  const statements: object[] = [
    // The key's default policy: without it only the principals named below could ever manage the key.
    { Sid: "AccountIamPolicies", Effect: "Allow", Principal: { AWS: input.accountRootArn }, Action: "kms:*", Resource: "*" },
  ];
  if (input.administratorArns.length > 0) {
    const administrators = { AWS: [...input.administratorArns] };
    statements.push(
      { Sid: "Administer", Effect: "Allow", Principal: administrators, Action: ADMINISTRATION_ACTIONS, Resource: "*" },
      {
        // RDS (storage, the managed master secret, Performance Insights) and Secrets Manager (login-role
        // secrets) use the key with the caller's identity.
        Sid: "UseThroughRdsAndSecretsManager",
        Effect: "Allow",
        Principal: administrators,
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
        Condition: via("rds", "secretsmanager"),
      },
      {
        // RDS keeps using the key after the call through a grant it creates for itself.
        Sid: "GrantToAwsServices",
        Effect: "Allow",
        Principal: administrators,
        Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        Resource: "*",
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
    );
  }
  if (input.userArns.length > 0) {
    const users = { AWS: [...input.userArns] };
    statements.push(
      { Sid: "Describe", Effect: "Allow", Principal: users, Action: DESCRIBE_ACTIONS, Resource: "*" },
      { Sid: "ReadSecrets", Effect: "Allow", Principal: users, Action: "kms:Decrypt", Resource: "*", Condition: via("secretsmanager") },
    );
  }
  if (input.topicPublishers.length > 0) {
    // An encrypted topic's publisher encrypts with the topic's key (Amazon SNS Developer Guide, "Key
    // management": AWS services that publish to encrypted topics need kms:GenerateDataKey* and
    // kms:Decrypt). As in that guide's example, without a condition: AWS does not document that every
    // publisher's KMS request carries aws:SourceAccount, and a refused key would drop notifications
    // silently. Who may publish at all is the topic policy's (aws:SourceAccount and aws:SourceArn).
    statements.push({
      Sid: "PublishToEncryptedTopic",
      Effect: "Allow",
      Principal: { Service: input.topicPublishers.length === 1 ? input.topicPublishers[0] : [...input.topicPublishers] },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
