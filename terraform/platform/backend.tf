# State in S3, encrypted and locked (S3-native lock files); which bucket and key is the
# environment's choice: `init -backend-config=../envs/<env>/backend.hcl`.
terraform {
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
