# State of this environment alone, in a bucket of its own: a mistake in one environment's
# state cannot touch another's. The bucket (versioned, SSE-KMS, public access blocked) is
# created once by hand before the first init; see terraform/README.md.
terraform {
  backend "s3" {
    bucket       = "sluice-terraform-state-staging"
    key          = "sluice/staging/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}
