# The environment of one branch, at small scale (after the pipeline in
# shared/seeds/002: "Deploy steps"): a VPC over two AZs, an ECS cluster with services behind an
# ALB, three Redis replication groups, IAM roles, ECR repositories, and the CI deploy role.

variable "environment" {
  type        = string
  default     = "automation-dev"
  description = "Environment name: automation-master, or automation-<first 8 hex of sha256(branch)>."
}

variable "image_tag" {
  type    = string
  default = "1"
}

variable "live" {
  type        = string
  default     = "blue"
  description = "Which target group the ALB listener forwards to."
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      environment = var.environment
      managed-by  = "terrane"
    }
  }
}

locals {
  # The services of the pipeline, reduced to three; the last sits behind the ALB.
  services = {
    "nats-server"             = { target_group = false }
    "bruin-bridge"            = { target_group = false }
    "dispatch-portal-backend" = { target_group = true }
  }
  # Its Redis clusters: key -> replication group name.
  caches = {
    "main"           = var.environment
    "customer-cache" = "${var.environment}-customer-cache-redis"
    "tnba-feedback"  = "${var.environment}-tnba-feedback-cache-redis"
  }
}

module "network" {
  source      = "../../modules/network"
  name        = var.environment
  cidr        = "10.10.0.0/16"
  az_count    = 2
  nat_gateway = true
}

module "ecr" {
  source       = "../../modules/ecr"
  repositories = [for s in keys(local.services) : "${var.environment}-${s}"]
  keep_images  = 10
  force_delete = true
}

module "cluster" {
  source = "../../modules/ecs-cluster"
  name   = var.environment
}

module "alb" {
  source     = "../../modules/alb"
  name       = var.environment
  vpc_id     = module.network.vpc_id
  subnet_ids = module.network.public_subnet_ids
  live       = var.live
}

resource "aws_security_group" "services" {
  name        = "${var.environment}-services"
  description = "ECS services of ${var.environment}"
  vpc_id      = module.network.vpc_id

  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [module.alb.security_group_id]
  }

  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# One module call per service and per cache (module for_each is not supported yet).
module "service" {
  source             = "../../modules/ecs-service"
  for_each           = local.services
  name               = "${var.environment}-${each.key}"
  cluster_id         = module.cluster.id
  image              = "${module.ecr.repository_urls["${var.environment}-${each.key}"]}:${var.image_tag}"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [aws_security_group.services.id]
  target_group       = each.value.target_group
  region             = var.region
  environment = {
    ENVIRONMENT = var.environment
    REDIS_HOST  = module.redis["main"].primary_endpoint_address
  }
}

module "redis" {
  source        = "../../modules/redis"
  for_each      = local.caches
  name          = each.value
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = ["10.10.0.0/16"]
}

resource "aws_lb_listener_rule" "backend" {
  listener_arn = module.alb.listener_arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = module.service["dispatch-portal-backend"].target_group_arn
  }

  condition {
    path_pattern {
      values = ["/api/*"]
    }
  }
}

module "ci" {
  source    = "../../modules/ci-oidc-role"
  role_name = "${var.environment}-deploy"
  subjects  = ["repo:example-org/automation:ref:refs/heads/*"]
  policy_arns = [
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
  ]
}

output "alb_dns_name" {
  value = module.alb.dns_name
}

output "redis_endpoints" {
  value = [for k in ["main", "customer-cache", "tnba-feedback"] : module.redis[k].primary_endpoint_address]
}

output "repository_urls" {
  value = module.ecr.repository_urls
}

output "deploy_role_arn" {
  value = module.ci.role_arn
}
