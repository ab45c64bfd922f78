# One app delivered blue/green (modules/app-delivery) in its own VPC. `run.sh` runs the whole
# story against a local AWS emulator: first deploy, build and push, release to green, test,
# promote, rollback, a release that fails its checks, a canary, an alarm during the bake time.

provider "aws" {
  region = "us-east-1"
}

variable "name" {
  type    = string
  default = "web"
}

resource "aws_vpc" "this" {
  cidr_block = "10.40.0.0/16"
  tags       = { Name = var.name }
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.40.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.40.2.0/24"
  availability_zone = "us-east-1b"
}

module "web" {
  source       = "../../modules/app-delivery"
  name         = var.name
  vpc_id       = aws_vpc.this.id
  subnet_ids   = [aws_subnet.a.id, aws_subnet.b.id]
  image        = "public.ecr.aws/nginx/nginx:1.27"
  force_delete = true
}

output "repository_url" {
  value = module.web.repository_url
}
