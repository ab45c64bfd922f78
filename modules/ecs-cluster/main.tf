# An ECS cluster for one environment.

variable "name" {
  type        = string
  description = "Cluster name (e.g. automation-1a2b3c4d)."
}

variable "container_insights" {
  type        = bool
  default     = false
  description = "Enable CloudWatch Container Insights."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags for the cluster."
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }
}

output "id" {
  value = aws_ecs_cluster.this.id
}

output "arn" {
  value = aws_ecs_cluster.this.arn
}

output "name" {
  value = aws_ecs_cluster.this.name
}
