#!/usr/bin/env bash
# Writes a Terraform CLI configuration for this checkout and prints its path.
# Where a local filesystem mirror of hashicorp/aws exists (TF_PROVIDER_MIRROR, or a known place), Terraform
# installs providers from it and nowhere else; otherwise it installs them from the registry as usual.
# Either way a plugin cache lets every `terraform init` here link the provider instead of copying it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.tfcli/terraformrc"
mkdir -p "$root/.tfcli/plugin-cache"

find_mirror() {
  local candidate
  for candidate in "${TF_PROVIDER_MIRROR:-}" /opt/tf-plugins /usr/share/terraform/plugins \
    /usr/local/share/terraform/plugins "$HOME/.terraform.d/plugins"; do
    if [ -n "$candidate" ] && [ -d "$candidate/registry.terraform.io/hashicorp/aws" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

{
  echo "plugin_cache_dir = \"$root/.tfcli/plugin-cache\""
  echo 'disable_checkpoint = true'
  if mirror=$(find_mirror); then
    cat <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
HCL
  fi
} >"$out"
echo "$out"
