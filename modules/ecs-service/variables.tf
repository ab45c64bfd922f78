variable "name" {
  type        = string
  description = "Service name; also the task family, log group suffix and role prefix."
}

variable "cluster_id" {
  type        = string
  description = "ARN of the ECS cluster."
}

variable "image" {
  type        = string
  description = "Container image (repository:tag)."
}

variable "cpu" {
  type    = number
  default = 256
}

variable "memory" {
  type    = number
  default = 512
}

variable "desired_count" {
  type    = number
  default = 1
}

variable "container_port" {
  type        = number
  default     = 8080
  description = "Port the container listens on."
}

variable "environment" {
  type        = map(string)
  default     = {}
  description = "Environment variables of the container."
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "target_group" {
  type        = bool
  default     = false
  description = "Create a target group (for an ALB) and register the service in it."
}

variable "health_check_path" {
  type    = string
  default = "/health"
}

variable "log_retention_days" {
  type    = number
  default = 14
}

variable "wait_for_steady_state" {
  type    = bool
  default = false
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "tags" {
  type    = map(string)
  default = {}
}
