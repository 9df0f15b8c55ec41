variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm fires (e.g. an SNS topic): dead letters, queue age, function errors."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.alarm_actions : can(regex("^arn:", arn))])
    error_message = "Each alarm action must be an ARN, e.g. \"arn:aws:sns:eu-west-1:123456789012:alerts\"."
  }
}

variable "batch_size" {
  type        = number
  description = "Most SQS messages (S3 events) per Lambda invocation; above 10 needs batching_window_seconds >= 1."
  default     = 1000
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number from 1 to 10000 (SQS event source mapping limits)."
  }
}

variable "batching_window_seconds" {
  type        = number
  description = "Seconds the event source mapping gathers S3 events before invoking the Lambda. Changes wait in the deploy inbox until the bucket is quiet (quiet_seconds), so a longer window only delays them; 1 is the least a batch_size above 10 allows."
  default     = 1
  nullable    = false

  validation {
    condition = (
      var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300 &&
      floor(var.batching_window_seconds) == var.batching_window_seconds
    )
    error_message = "batching_window_seconds must be a whole number from 0 to 300."
  }
}

variable "bucket_name" {
  type        = string
  description = "Name of the existing S3 bucket that holds the site."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be an S3 bucket name (3-63 characters: a-z, 0-9, '.', '-'), not an ARN or URL."
  }
}

variable "create_dashboard" {
  type        = bool
  description = "Create a CloudWatch dashboard named after the module: paths billed, waits, skipped objects, the queues, the function's errors and duration."
  default     = false
  nullable    = false
}

variable "distributions" {
  type = map(object({
    id                      = string
    origin_path             = optional(string, "")
    directory_without_slash = optional(bool, false)
    strip_extensions        = optional(list(string), [])
    default_root_object     = optional(string, "")
  }))
  description = "CloudFront distributions serving the bucket: label => { id, origin_path (\"\", \"/prefix\" or \"auto\": read from the distribution), directory_without_slash (dir/index.html also as /dir), strip_extensions (e.g. [\".html\"]: a.html also as /a), default_root_object (the distribution's, when not index_document: it is invalidated at / too; read from the distribution when verify_distributions) }."
  nullable    = false

  validation {
    condition     = length(var.distributions) > 0
    error_message = "distributions must name at least one distribution, e.g. { site = { id = \"E2QWRUHAPOMQZL\" } }."
  }

  validation {
    condition     = alltrue([for d in values(var.distributions) : can(regex("^[A-Z0-9]{1,128}$", d.id))])
    error_message = "distributions ${join(", ", [for label, d in var.distributions : label if !can(regex("^[A-Z0-9]{1,128}$", d.id))])}: id must be a CloudFront distribution id (capital letters and digits, e.g. \"E2QWRUHAPOMQZL\"), not its ARN or domain name."
  }

  validation {
    condition = alltrue([
      for d in values(var.distributions) : d.origin_path == "" || d.origin_path == "auto" || can(regex("^/.*[^/]$", d.origin_path))
    ])
    error_message = "distributions ${join(", ", [
      for label, d in var.distributions : label if !(d.origin_path == "" || d.origin_path == "auto" || can(regex("^/.*[^/]$", d.origin_path)))
    ])}: origin_path must be \"\", \"auto\" (read from the distribution) or start with \"/\" and not end with \"/\", e.g. \"/site\" (as in the distribution's origin settings)."
  }

  validation {
    condition = alltrue(flatten([
      for d in values(var.distributions) : [for e in d.strip_extensions : can(regex("^\\.[^/]+$", e))]
    ]))
    error_message = "distributions ${join(", ", [
      for label, d in var.distributions : label if !alltrue([for e in d.strip_extensions : can(regex("^\\.[^/]+$", e))])
    ])}: each strip_extensions entry must be a file name ending that starts with \".\" and holds no \"/\", e.g. [\".html\"]."
  }

  validation {
    condition = alltrue([
      for d in values(var.distributions) : d.default_root_object == "" || can(regex("^[^/](.*[^/])?$", d.default_root_object))
    ])
    error_message = "Each default_root_object must be \"\" or the distribution's DefaultRootObject as CloudFront takes it, without a leading or trailing \"/\", e.g. \"home.html\" or \"app/index.html\"."
  }
}

variable "enable_bucket_eventbridge" {
  type        = bool
  description = "With notification_mode \"eventbridge\", turn on the bucket's EventBridge delivery (replaces its notification configuration)."
  default     = false
  nullable    = false
}

variable "enable_metrics" {
  type        = bool
  description = "Write CloudWatch metrics (Embedded Metric Format log lines, no API call) per distribution and batch: PathsBilled, ChangeToInvalidationSeconds and more."
  default     = true
  nullable    = false
}

variable "evictions_per_path" {
  type        = number
  description = "Unchanged objects a wildcard may evict per billed path it saves; 0 = never evict an unchanged object unless a deploy's exact paths would exceed max_paths_per_invalidation or CloudFront's quotas in progress."
  default     = 3
  nullable    = false

  validation {
    condition     = var.evictions_per_path >= 0
    error_message = "evictions_per_path must be a number >= 0, e.g. 3 (a wildcard may evict 3 unchanged objects per path it saves) or 0 (never evict unless CloudFront's quotas force it)."
  }
}

variable "index_document" {
  type        = string
  description = "Index document name: a change to dir/index.html also invalidates /dir/."
  default     = "index.html"
  nullable    = false

  validation {
    condition     = length(var.index_document) > 0 && !strcontains(var.index_document, "/")
    error_message = "index_document must be a file name without \"/\", e.g. \"index.html\"."
  }
}

variable "invalidate_new_objects" {
  type        = bool
  description = "With skip_unchanged_objects, also invalidate objects with no earlier version (or whose key was deleted before): false saves their paths but may leave a cached 404 or SPA fallback in place."
  default     = true
  nullable    = false
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for the two queues; null uses SSE-SQS."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || !can(regex("(^|:)alias/aws/", var.kms_key_arn))
    error_message = "kms_key_arn cannot be an AWS managed key (alias/aws/...): its key policy cannot be changed, so S3 and EventBridge cannot encrypt messages for the queue with it. Give a customer managed key's ARN, or null for SSE-SQS."
  }

  validation {
    condition = (
      var.kms_key_arn == null || can(regex("(^|:)alias/aws/", var.kms_key_arn)) ||
      can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    )
    error_message = "kms_key_arn must be a key ARN like \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (not an alias or key id), or null."
  }
}

variable "lambda_memory_size" {
  type        = number
  description = "Memory of the Lambda function in MB (and its share of a vCPU: memory / 1,769). 512 holds the flush of a 200,000-object regeneration with room to spare; see docs/deploy-flush.md."
  default     = 512
  nullable    = false

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_timeout" {
  type        = number
  description = "Timeout of the Lambda function in seconds; the queue's visibility timeout is 6 times this plus the batching window."
  default     = 60
  nullable    = false

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "log_group_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key for the function's log group (its policy must admit the region's CloudWatch Logs); null uses CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.log_group_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_group_kms_key_arn))
    error_message = "log_group_kms_key_arn must be a key ARN like \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (CloudWatch Logs takes no alias or key id), or null."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch Logs keeps the function's logs."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "max_paths_per_day" {
  type        = number
  description = "Spend guard: once a distribution's paths in the last 24 hours would pass this, requests become \"/*\" (counted in a DynamoDB table); null for no guard."
  default     = 5000

  validation {
    condition     = var.max_paths_per_day == null || try(var.max_paths_per_day >= 1 && floor(var.max_paths_per_day) == var.max_paths_per_day, false)
    error_message = "max_paths_per_day must be a whole number of at least 1 (e.g. 5000, $25 a day at $0.005 a path), or null to turn the spend guard off."
  }
}

variable "max_wait_seconds" {
  type        = number
  description = "Longest a change waits in the deploy inbox when the bucket is never quiet (a writer that never pauses): its distribution is then flushed anyway. At least quiet_seconds; see docs/deploy-flush.md."
  default     = 300
  nullable    = false

  validation {
    condition     = var.max_wait_seconds >= 1 && var.max_wait_seconds <= 300 && floor(var.max_wait_seconds) == var.max_wait_seconds
    error_message = "max_wait_seconds must be a whole number of seconds from 1 to 300 (and at least quiet_seconds)."
  }
}

variable "max_paths_per_invalidation" {
  type        = number
  description = "Most paths in one invalidation before directories collapse into wildcards: fewer evict unchanged objects, more bill more paths ($0.005 each past 1,000 a month)."
  default     = 1000
  nullable    = false

  validation {
    condition     = var.max_paths_per_invalidation >= 1 && var.max_paths_per_invalidation <= 3000 && floor(var.max_paths_per_invalidation) == var.max_paths_per_invalidation
    error_message = "max_paths_per_invalidation must be a whole number from 1 to 3000 (CloudFront's limit of paths in progress)."
  }
}

variable "maximum_concurrency" {
  type        = number
  description = "Most concurrent Lambda invocations the queue drives; low keeps a deploy in few invalidations."
  default     = 2
  nullable    = false

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency must be a whole number from 2 (the least AWS allows) to 1000."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the metrics (dimension DistributionId)."
  default     = "CloudFrontAutoInvalidation"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9.\\-_/#: ]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 letters, digits, spaces or . - _ / # : and not start with \"AWS/\" (AWS's own), e.g. \"CloudFrontAutoInvalidation\"."
  }
}

variable "name" {
  type        = string
  description = "Name of the Lambda function and prefix of every other resource name; the role is this name, a dash and the region."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name))
    error_message = "name must be 1-48 characters of letters, digits, '-' and '_', e.g. \"site-cf-invalidator\": the role is named <name>-<region>, IAM allows 64 characters and region names take up to 15."
  }
}

variable "notification_mode" {
  type        = string
  description = "How bucket events reach the queue: \"s3\" (bucket notification), \"eventbridge\" (a rule) or \"none\" (wire it yourself)."
  default     = "s3"
  nullable    = false

  validation {
    condition     = contains(["s3", "eventbridge", "none"], var.notification_mode)
    error_message = "notification_mode must be \"s3\", \"eventbridge\" or \"none\"; use \"eventbridge\" or \"none\" when the bucket's notification configuration is managed elsewhere."
  }
}

variable "ok_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm returns to OK (e.g. an SNS topic); none by default."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.ok_actions : can(regex("^arn:", arn))])
    error_message = "Each OK action must be an ARN, e.g. \"arn:aws:sns:eu-west-1:123456789012:alerts\"."
  }
}

variable "paths_billed_alarm_threshold" {
  type        = number
  description = "Alarm, per distribution, when PathsBilled summed over 24 hours exceeds this (needs enable_metrics); null for no alarm."
  default     = null

  validation {
    condition     = var.paths_billed_alarm_threshold == null || try(var.paths_billed_alarm_threshold >= 0 && floor(var.paths_billed_alarm_threshold) == var.paths_billed_alarm_threshold, false)
    error_message = "paths_billed_alarm_threshold must be a whole number of at least 0 (e.g. 1000), or null for no alarm."
  }
}

variable "queue_age_alarm_seconds" {
  type        = number
  description = "Age in seconds of the queue's oldest message above which an alarm fires; the default 6 h outlasts the 1+4+16+64+256 min of postponed redelivery before a message reaches the dead-letter queue."
  default     = 21600
  nullable    = false

  validation {
    condition = (
      var.queue_age_alarm_seconds >= 60 && var.queue_age_alarm_seconds <= 1123200 &&
      floor(var.queue_age_alarm_seconds) == var.queue_age_alarm_seconds
    )
    error_message = "queue_age_alarm_seconds must be a whole number from 60 to 1123200 (13 days): the queue keeps a message 14 days, and the alarm must leave a day to act."
  }
}

variable "quiet_seconds" {
  type        = number
  description = "Seconds without a new write under a distribution's origin after which its waiting changes (a deploy) are planned as one invalidation; see docs/deploy-flush.md."
  default     = 5
  nullable    = false

  validation {
    condition     = var.quiet_seconds >= 1 && var.quiet_seconds <= 60 && floor(var.quiet_seconds) == var.quiet_seconds
    error_message = "quiet_seconds must be a whole number of seconds from 1 to 60."
  }
}

variable "role_path" {
  type        = string
  description = "IAM path of the function's role, e.g. \"/service-roles/\"."
  default     = "/"
  nullable    = false

  validation {
    condition     = length(var.role_path) <= 512 && can(regex("^/([\\x{21}-\\x{7E}]*/)?$", var.role_path))
    error_message = "role_path must be \"/\" or start and end with \"/\" (printable ASCII, no spaces, at most 512 characters), e.g. \"/service-roles/\"."
  }
}

variable "role_permissions_boundary" {
  type        = string
  description = "ARN of a managed policy set as the role's permissions boundary (as an estate's SCP may require); null for none."
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be a managed policy ARN like \"arn:aws:iam::123456789012:policy/estate-boundary\", or null."
  }
}

variable "skip_unchanged_objects" {
  type        = bool
  description = "On a versioned bucket, skip created objects whose bytes and served headers equal the version they replaced (grants s3:ListBucketVersions and s3:GetObjectVersion)."
  default     = true
  nullable    = false
}

variable "spend_guard_interval_seconds" {
  type        = number
  description = "Spend guard: past max_paths_per_day, the least time between two \"/*\" on a distribution; the changes in between wait for the next one (never dropped). 300 bills at most 288 paths a day beyond the ceiling and keeps a change stale for at most two intervals."
  default     = 300
  nullable    = false

  validation {
    condition     = var.spend_guard_interval_seconds >= 60 && var.spend_guard_interval_seconds <= 43200 && floor(var.spend_guard_interval_seconds) == var.spend_guard_interval_seconds
    error_message = "spend_guard_interval_seconds must be a whole number of seconds from 60 to 43200 (12 hours), e.g. 300."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
  nullable    = false
}

variable "verify_distributions" {
  type        = bool
  description = "Read each distribution's configuration (GetDistributionConfig): invalidate / for its default root object, and log distribution_mismatch when none of its origins is the bucket with the given origin_path or its default root object is not the entry's (or index_document); false for estates that deny the read (then give default_root_object in the entry)."
  default     = true
  nullable    = false
}
