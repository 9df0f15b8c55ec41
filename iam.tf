# The function's role: exactly what the handler does, on the resources this module owns or was given.
# The policies are built with jsonencode (not aws_iam_policy_document) so that a plan shows the document
# itself, and tests/iam.tftest.hcl can compare it with tests/golden/*.json.

locals {
  # IAM role names are global to the account: the region in the name lets the same `name` apply in two
  # regions. var.name is at most 48 characters, so "<name>-<region>" fits IAM's 64 in every region.
  role_name = "${var.name}-${data.aws_region.current.id}"

  distribution_arns = sort(distinct([
    for d in values(var.distributions) :
    "arn:${data.aws_partition.current.partition}:cloudfront::${data.aws_caller_identity.current.account_id}:distribution/${d.id}"
  ]))

  # Whose configuration the handler reads: every distribution when verifying, else the "auto" ones.
  configured_distribution_arns = sort(distinct([
    for d in values(var.distributions) :
    "arn:${data.aws_partition.current.partition}:cloudfront::${data.aws_caller_identity.current.account_id}:distribution/${d.id}"
    if var.verify_distributions || d.origin_path == "auto"
  ]))

  # The bucket prefixes the distributions serve ("site/" for origin_path "/site"), which bound the keys
  # the handler reads and lists; none (the whole bucket) when one serves the bucket's root ("") or is
  # "auto" (its origins are read at run time, and its tree is listed from the bucket's root).
  whole_bucket    = anytrue([for d in values(var.distributions) : d.origin_path == "" || d.origin_path == "auto"])
  served_prefixes = local.whole_bucket ? [] : sort(distinct([for d in values(var.distributions) : "${trimprefix(d.origin_path, "/")}/"]))
  served_objects  = local.whole_bucket ? ["${local.bucket_arn}/*"] : [for p in local.served_prefixes : "${local.bucket_arn}/${p}*"]
  # Every listing (detect.py, tree.py) has a Prefix below a served prefix: the directory of a served key,
  # the key itself, or the origin's prefix plus a viewer directory.
  listing_condition = {
    for name, value in { Condition = { StringLike = { "s3:prefix" = [for p in local.served_prefixes : "${p}*"] } } } :
    name => value if !local.whole_bucket
  }
  # kms_key_arn is used on the role's behalf only through SQS (the messages the event source mapping
  # receives with the role, the flush ticks and dead letters it sends) and DynamoDB (the deploy inbox,
  # the spend guard's table). The log group's key
  # (log_group_kms_key_arn) is used by CloudWatch Logs under its own key policy grant, never by the role.
  kms_services = ["dynamodb.${data.aws_region.current.id}.amazonaws.com", "sqs.${data.aws_region.current.id}.amazonaws.com"]

  lambda_statements = concat(
    [
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.this.arn}:*"
      },
      {
        Sid      = "ConsumeOwnQueue"
        Effect   = "Allow"
        Action   = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        Resource = aws_sqs_queue.this.arn
      },
      # Flush ticks are delayed messages on the function's own queue; changes it cannot invalidate go to
      # the dead-letter queue as S3 events (SendMessageBatch is authorized as SendMessage).
      {
        Sid      = "SendFlushTicksAndDeadLetters"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = [aws_sqs_queue.dead_letter.arn, aws_sqs_queue.this.arn]
      },
      # The deploy inbox: chunks written and deleted in batches, read per distribution, state updated
      # conditionally (the flush lease).
      {
        Sid      = "UseDeployInbox"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        Resource = local.deploys_table_arn
      },
      # List/Get: the handler reads what is in progress to fit each request into CloudFront's quotas.
      {
        Sid      = "InvalidateGivenDistributions"
        Effect   = "Allow"
        Action   = ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation", "cloudfront:ListInvalidations"]
        Resource = local.distribution_arns
      },
    ],
    # The distributions' own configuration: checked (verify_distributions), or read for origin_path "auto".
    length(local.configured_distribution_arns) > 0 ? [
      {
        Sid      = "ReadGivenDistributionConfigs"
        Effect   = "Allow"
        Action   = "cloudfront:GetDistributionConfig"
        Resource = local.configured_distribution_arns
      },
    ] : [],
    # Change detection: a created object is compared with the version it replaced. The planner then lists
    # the tree below the changed paths with ListObjectVersions too (tree.py).
    # (A for expression, not a conditional: the listing's statement has a Condition only with prefixes.)
    [
      for statement in [
        merge({
          Sid      = "ListSiteBucketVersions"
          Effect   = "Allow"
          Action   = "s3:ListBucketVersions"
          Resource = local.bucket_arn
        }, local.listing_condition),
        {
          Sid      = "ReadSiteObjectVersions"
          Effect   = "Allow"
          Action   = "s3:GetObjectVersion"
          Resource = local.served_objects
        },
      ] : statement if var.skip_unchanged_objects
    ],
    # Without change detection, the planner lists the tree below the changed paths with ListObjectsV2.
    [
      for statement in [
        merge({
          Sid      = "ListSiteBucket"
          Effect   = "Allow"
          Action   = "s3:ListBucket"
          Resource = local.bucket_arn
        }, local.listing_condition),
      ] : statement if !var.skip_unchanged_objects
    ],
    # Spend guard: read and conditionally update each distribution's count in the module's table.
    var.max_paths_per_day == null ? [] : [
      {
        Sid      = "CountSpendGuardPaths"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = local.spend_table_arn
      },
    ],
    # Messages of a KMS-encrypted queue are decrypted for the function that receives them, and the
    # tables' items for its reads: only through those services.
    var.kms_key_arn == null ? [] : [
      {
        Sid       = "DecryptQueueMessages"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = local.kms_services } }
      },
    ],
    # The tables are encrypted with kms_key_arn too, and the queues: DynamoDB uses the key for the role's
    # writes (Encrypt, GenerateDataKey), SQS for the messages the role sends (GenerateDataKey), only on
    # the role's calls to those services.
    var.kms_key_arn == null ? [] : [
      {
        Sid       = "EncryptTablesAndSentMessages"
        Effect    = "Allow"
        Action    = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = local.kms_services } }
      },
    ],
  )
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Runs the ${var.name} Lambda function: reads its queue, writes its logs, invalidates CloudFront"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaService"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = var.name
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.lambda_statements })
}
