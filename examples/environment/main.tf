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
  services = ["nats-server", "bruin-bridge", "dispatch-portal-backend"]
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
  repositories = [for s in local.services : "${var.environment}-${s}"]
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
module "service_nats" {
  source             = "../../modules/ecs-service"
  name               = "${var.environment}-nats-server"
  cluster_id         = module.cluster.id
  image              = "${module.ecr.repository_urls["${var.environment}-nats-server"]}:${var.image_tag}"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [aws_security_group.services.id]
  target_group       = false
  region             = var.region
  environment = {
    ENVIRONMENT = var.environment
    REDIS_HOST  = module.redis_main.primary_endpoint_address
  }
}

module "service_bruin" {
  source             = "../../modules/ecs-service"
  name               = "${var.environment}-bruin-bridge"
  cluster_id         = module.cluster.id
  image              = "${module.ecr.repository_urls["${var.environment}-bruin-bridge"]}:${var.image_tag}"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [aws_security_group.services.id]
  target_group       = false
  region             = var.region
  environment = {
    ENVIRONMENT = var.environment
    REDIS_HOST  = module.redis_main.primary_endpoint_address
  }
}

module "service_backend" {
  source             = "../../modules/ecs-service"
  name               = "${var.environment}-dispatch-portal-backend"
  cluster_id         = module.cluster.id
  image              = "${module.ecr.repository_urls["${var.environment}-dispatch-portal-backend"]}:${var.image_tag}"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [aws_security_group.services.id]
  target_group       = true
  region             = var.region
  environment = {
    ENVIRONMENT = var.environment
    REDIS_HOST  = module.redis_main.primary_endpoint_address
  }
}

module "redis_main" {
  source        = "../../modules/redis"
  name          = "${var.environment}"
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = ["10.10.0.0/16"]
}

module "redis_customer_cache" {
  source        = "../../modules/redis"
  name          = "${var.environment}-customer-cache-redis"
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = ["10.10.0.0/16"]
}

module "redis_tnba_feedback" {
  source        = "../../modules/redis"
  name          = "${var.environment}-tnba-feedback-cache-redis"
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = ["10.10.0.0/16"]
}

resource "aws_lb_listener_rule" "backend" {
  listener_arn = module.alb.listener_arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = module.service_backend.target_group_arn
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
  value = [
    module.redis_main.primary_endpoint_address,
    module.redis_customer_cache.primary_endpoint_address,
    module.redis_tnba_feedback.primary_endpoint_address,
  ]
}

output "repository_urls" {
  value = module.ecr.repository_urls
}

output "deploy_role_arn" {
  value = module.ci.role_arn
}
