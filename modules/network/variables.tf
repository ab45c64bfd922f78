variable "name" {
  type        = string
  description = "Name prefix for every resource (e.g. automation-1a2b3c4d)."
}

variable "cidr" {
  type        = string
  default     = "10.0.0.0/16"
  description = "CIDR block of the VPC."
}

variable "az_count" {
  type        = number
  default     = 2
  description = "How many availability zones to spread the subnets over."

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 6
    error_message = "az_count must be between 1 and 6."
  }
}

variable "nat_gateway" {
  type        = bool
  default     = true
  description = "Create one NAT gateway so that private subnets reach the internet."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags for every resource (on top of the provider's default_tags)."
}
