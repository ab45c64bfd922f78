variable "name" {
  type        = string
  description = "The app's name: the ECR repository, cluster, services (<name>-blue, <name>-green) and the key of its releases (deliver.hcl's app)."
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the load balancer and the tasks (at least two availability zones)."
}

variable "image" {
  type        = string
  description = "The image both colours run before the first release (the first deploy). After it, releases set each colour's image."
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "desired_count" {
  type    = number
  default = 2
}

variable "cpu" {
  type    = number
  default = 256
}

variable "memory" {
  type    = number
  default = 512
}

variable "live_port" {
  type    = number
  default = 80
}

variable "test_port" {
  type    = number
  default = 8080
}

variable "health_check_path" {
  type    = string
  default = "/health"
}

variable "alarm" {
  type        = bool
  default     = true
  description = "A CloudWatch alarm per colour on its target group's 5xx count; promote watches the new colour's through the shift and the bake time."
}

variable "alarm_threshold" {
  type    = number
  default = 10
}

variable "force_delete" {
  type        = bool
  default     = false
  description = "Let destroy delete the repository with its images."
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "tags" {
  type    = map(string)
  default = {}
}
