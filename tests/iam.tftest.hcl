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

run "without_change_detection_the_role_only_lists_the_bucket_for_the_planner" {
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

run "origin_paths_bound_the_objects_read_and_the_prefixes_listed" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    distributions = {
      docs    = { id = "E1DOCSEXAMPLE1", origin_path = "/docs" }
      preview = { id = "E2QWRUHAPOMQZL", origin_path = "/preview" }
    }
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_origin_paths.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_origin_paths.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "an_origin_path_bounds_the_listing_without_change_detection" {
  command = plan

  variables {
    skip_unchanged_objects = false
    distributions = {
      www = { id = "E2QWRUHAPOMQZL", origin_path = "/site" }
    }
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_origin_path_without_change_detection.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_origin_path_without_change_detection.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "without_verification_the_role_reads_no_distribution_config" {
  command = plan

  variables {
    verify_distributions = false
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_without_verification.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_without_verification.json: ${aws_iam_role_policy.this.policy}"
  }
}

run "auto_origin_path_reads_that_distribution_config_only_without_verification" {
  command = plan

  variables {
    verify_distributions = false
    distributions = {
      www    = { id = "E2QWRUHAPOMQZL" }
      assets = { id = "E1AUTOEXAMPLE1", origin_path = "auto" }
    }
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy_auto_without_verification.json")))
    error_message = "The Lambda's policy differs from tests/golden/lambda_policy_auto_without_verification.json: ${aws_iam_role_policy.this.policy}"
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
    condition     = aws_iam_role.this.name == "site-invalidator-eu-west-1" && aws_lambda_function.this.function_name == "site-invalidator"
    error_message = "The function must be named var.name and the role <name>-<region>: ${aws_iam_role.this.name}"
  }

  assert {
    condition     = aws_iam_role.this.path == "/" && aws_iam_role.this.permissions_boundary == null
    error_message = "By default the role must sit at path \"/\" without a permissions boundary."
  }
}

run "role_carries_the_given_boundary_and_path" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/estate/workload-boundary"
    role_path                 = "/estate/cdn/"
  }

  assert {
    condition = {
      name                 = aws_iam_role.this.name
      path                 = aws_iam_role.this.path
      permissions_boundary = aws_iam_role.this.permissions_boundary
      assume_role_policy   = jsondecode(aws_iam_role.this.assume_role_policy)
    } == jsondecode(file("tests/golden/lambda_role_boundary_path.json"))
    error_message = "The role differs from tests/golden/lambda_role_boundary_path.json: ${aws_iam_role.this.name} ${aws_iam_role.this.path} ${coalesce(aws_iam_role.this.permissions_boundary, "no boundary")}"
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.this.policy)) == jsonencode(jsondecode(file("tests/golden/lambda_policy.json")))
    error_message = "A boundary and a path must not change what the role's own policy grants."
  }
}

run "role_name_carries_the_region_so_one_name_serves_two_regions" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { id = "us-west-2" }
  }

  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "example-site.s3.us-west-2.amazonaws.com" }
  }

  assert {
    condition     = aws_iam_role.this.name == "site-invalidator-us-west-2" && aws_iam_role_policy.this.name == "site-invalidator"
    error_message = "In us-west-2 the role must be site-invalidator-us-west-2 (its inline policy keeps var.name, unique within the role): ${aws_iam_role.this.name}"
  }
}

run "longest_name_in_the_longest_region_fits_iam_role_names" {
  command = plan

  variables {
    name = join("", [for i in range(12) : "abcd"])
  }

  override_data {
    target = data.aws_region.current
    values = { id = "us-isof-south-1" }
  }

  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "example-site.s3.us-isof-south-1.amazonaws.com" }
  }

  assert {
    condition     = length(aws_iam_role.this.name) == 64
    error_message = "A 48-character name in a 15-character region must give a 64-character role name."
  }
}
