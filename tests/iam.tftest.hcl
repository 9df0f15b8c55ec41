# The function's permissions, compared whole with reviewed golden files: any change to what the Lambda
# may do shows up as a diff of tests/golden/*.json.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "site-invalidator"
  bucket_name = "example-site"
  distributions = {
    www = { id = "E2QWRUHAPOMQZL" }
  }
}

run "lambda_policy_is_scoped_to_own_log_group_queue_and_distribution" {
  command = plan

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "without_change_detection_the_role_reads_nothing_of_the_bucket" {
  command = plan

  variables {
    skip_unchanged_objects = false
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_without_change_detection.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_without_change_detection.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "kms_key_adds_decrypt_on_that_key_and_each_distribution_is_listed_once" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    distributions = {
      www     = { id = "E2QWRUHAPOMQZL" }
      docs    = { id = "E1DOCSEXAMPLE1", origin_path = "/docs" }
      preview = { id = "E2QWRUHAPOMQZL", origin_path = "/preview" }
    }
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_kms_two_distributions.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_kms_two_distributions.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "only_lambda_may_assume_the_role" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Sid       = "LambdaService"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
    error_message = "The role's trust policy must admit lambda.amazonaws.com only: ${aws_iam_role.this.assume_role_policy}"
  }

  assert {
    condition     = aws_iam_role.this.name == "site-invalidator" && aws_lambda_function.this.function_name == "site-invalidator"
    error_message = "The role and the function must both be named after var.name."
  }
}
