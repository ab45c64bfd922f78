# Tiered services with health gates, after a real pipeline (seed 002): NATS must be healthy
# before the capability services are created, and those before the use-case services. Each
# gate is a null_resource with native health checks (no script): the ECS service is steady
# (running = desired, newest deployment COMPLETED) and its /health endpoint answers
# {"Status": "Success"}; the use-case gate also checks /version against var.app_version.
#
# Run against AWS, or against a local emulator with AWS_ENDPOINT_URL set (examples/demo.sh).

variable "service_urls" {
  description = "Base URL of each service's HTTP endpoint (serving /health and /version), by service name."
  type        = map(string)
}

variable "app_version" {
  description = "The version the use-case service must report on /version."
  default     = "1.0.0"
}

variable "check_interval" {
  default = "2s"
}

variable "check_deadline" {
  default = "5m"
}

variable "desired_count" {
  default = 2
}

locals {
  capabilities = toset(["bruin-bridge", "notifier"])
}

resource "aws_vpc" "main" {
  cidr_block = "10.30.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.30.1.0/24"
}

resource "aws_security_group" "services" {
  name   = "tiered-services"
  vpc_id = aws_vpc.main.id
}

resource "aws_ecs_cluster" "main" {
  name = "tiered"
}

resource "aws_ecs_task_definition" "svc" {
  for_each                 = toset(concat(["nats", "service-affecting-monitor"], tolist(local.capabilities)))
  family                   = each.key
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name         = each.key
    image        = "registry.local/${each.key}:${var.app_version}"
    essential    = true
    portMappings = [{ containerPort = 8080, protocol = "tcp" }]
  }])
}

# Tier 1: NATS.
resource "aws_ecs_service" "nats" {
  name            = "nats"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.svc["nats"].arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = [aws_subnet.a.id]
    security_groups = [aws_security_group.services.id]
  }
}

resource "null_resource" "nats-healthcheck" {
  # A new task definition replaces the gate, so the checks run again.
  triggers = { task_definition = aws_ecs_service.nats.task_definition }
  health_check {
    aws_ecs_service {
      cluster = aws_ecs_cluster.main.name
      service = aws_ecs_service.nats.name
    }
    interval = var.check_interval
    deadline = var.check_deadline
  }
  health_check {
    http {
      url  = "${var.service_urls["nats"]}/health"
      json = { "$.Status" = "Success" }
    }
    interval = var.check_interval
    deadline = var.check_deadline
  }
}

# Tier 2: capability services, created once NATS is healthy.
resource "aws_ecs_service" "capability" {
  for_each        = local.capabilities
  name            = each.key
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.svc[each.key].arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = [aws_subnet.a.id]
    security_groups = [aws_security_group.services.id]
  }
  depends_on = [null_resource.nats-healthcheck]
}

resource "null_resource" "capability-healthcheck" {
  for_each = local.capabilities
  triggers = { task_definition = aws_ecs_service.capability[each.key].task_definition }
  health_check {
    aws_ecs_service {
      cluster = aws_ecs_cluster.main.name
      service = aws_ecs_service.capability[each.key].name
    }
    interval = var.check_interval
    deadline = var.check_deadline
  }
  health_check {
    http {
      url  = "${var.service_urls[each.key]}/health"
      json = { "$.Status" = "Success" }
    }
    interval          = var.check_interval
    deadline          = var.check_deadline
    healthy_threshold = 2
  }
}

# Tier 3: the use-case service, created once every capability is healthy.
resource "aws_ecs_service" "service-affecting-monitor" {
  name            = "service-affecting-monitor"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.svc["service-affecting-monitor"].arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = [aws_subnet.a.id]
    security_groups = [aws_security_group.services.id]
  }
  depends_on = [null_resource.capability-healthcheck]
}

resource "null_resource" "service-affecting-monitor-healthcheck" {
  triggers = { task_definition = aws_ecs_service.service-affecting-monitor.task_definition }
  health_check {
    aws_ecs_service {
      cluster = aws_ecs_cluster.main.name
      service = aws_ecs_service.service-affecting-monitor.name
    }
    interval = var.check_interval
    deadline = var.check_deadline
  }
  health_check {
    http {
      url  = "${var.service_urls["service-affecting-monitor"]}/version"
      json = { "$.version" = var.app_version }
    }
    interval = var.check_interval
    deadline = var.check_deadline
  }
  # Announce the release once it is healthy (any command: a chat hook, a smoke test).
  provisioner "local-exec" {
    command     = "echo \"service-affecting-monitor $VERSION is healthy after ${self.health[1].attempts} attempt(s)\""
    environment = { VERSION = var.app_version }
  }
}

output "gates" {
  value = {
    nats                      = null_resource.nats-healthcheck.health
    capabilities              = { for k, g in null_resource.capability-healthcheck : k => g.health }
    service-affecting-monitor = null_resource.service-affecting-monitor-healthcheck.health
  }
}
