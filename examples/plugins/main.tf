# Native AWS resources and two WASM plugins in one module:
# - random  (plugins/guest/random):  names and a database password
# - awsssm  (plugins/guest/aws-ssm): aws_ssm_parameter, which the native AWS provider does not
#   have, through requests the plugin host signs with your AWS credentials
# Build the plugins and copy them to ./plugins/ first (examples/demo.sh does), then
# `terrane init` records their hashes in terrane.lock.json.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    random = {
      source  = "./plugins/random.wasm"
      version = "~> 0.1"
    }
    awsssm = {
      source = "./plugins/aws-ssm.wasm"
      allow  = { aws = ["ssm"] }
      limits = { memory = "64MiB", timeout = "30s" }
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "random_pet" "env" {
  length = 2
}

resource "random_password" "db" {
  length  = 24
  special = false
}

resource "aws_vpc" "main" {
  cidr_block = "10.60.0.0/16"
  tags = {
    Name = random_pet.env.id
  }
}

resource "aws_ssm_parameter" "vpc_id" {
  provider = awsssm
  name     = "/${random_pet.env.id}/vpc_id"
  type     = "String"
  value    = aws_vpc.main.id
}

resource "aws_ssm_parameter" "db_password" {
  provider = awsssm
  name     = "/${random_pet.env.id}/db_password"
  type     = "SecureString"
  value    = random_password.db.result
}

output "environment" {
  value = random_pet.env.id
}

output "vpc_id_parameter" {
  value = aws_ssm_parameter.vpc_id.name
}
