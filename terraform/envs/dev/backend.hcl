# Where the dev state lives: a bucket of its own, so a mistake in one environment's state
# cannot touch another's. The bucket (versioned, SSE-KMS, public access blocked) is created
# once by hand before the first init; see terraform/README.md. Used as
#   terraform -chdir=terraform/platform init -reconfigure -backend-config=../envs/dev/backend.hcl
bucket = "sluice-terraform-state-dev"
key    = "sluice/dev/terraform.tfstate"
region = "eu-west-1"
