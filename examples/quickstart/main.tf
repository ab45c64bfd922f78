# A small module that runs anywhere: no cloud account needed.
variable "environment" {
  type        = string
  default     = "dev"
  description = "Name of the environment"

  validation {
    condition     = length(var.environment) <= 16
    error_message = "The environment name must be at most 16 characters."
  }
}

variable "services" {
  type    = map(number)
  default = { api = 2, worker = 1 }
}

locals {
  prefix = "demo-${var.environment}"
}

resource "terraform_data" "network" {
  input = {
    name = "${local.prefix}-net"
    cidr = cidrsubnet("10.0.0.0/16", 8, 1)
  }
}

resource "terraform_data" "service" {
  for_each = var.services
  input = {
    name     = "${local.prefix}-${each.key}"
    replicas = each.value
    network  = terraform_data.network.id
  }
}

resource "null_resource" "release" {
  triggers = {
    services = join(",", sort([for k, s in terraform_data.service : s.id]))
  }
}

output "network_id" {
  value = terraform_data.network.id
}

output "service_names" {
  value = { for k, s in terraform_data.service : k => s.output.name }
}
