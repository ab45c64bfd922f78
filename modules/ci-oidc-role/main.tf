# The GitHub Actions OIDC provider and a deploy role that only the named repositories and refs
# can assume (both the `aud` and the `sub` condition, as the GitHub and AWS guides require).

variable "role_name" {
  type    = string
  default = "github-deploy"
}

variable "subjects" {
  type        = list(string)
  description = "Allowed token subjects, e.g. [\"repo:my-org/my-repo:ref:refs/heads/main\"]."

  validation {
    condition     = length(var.subjects) > 0
    error_message = "At least one subject (repo:<org>/<repo>:...) is required: without a sub condition any GitHub repository could assume the role."
  }
}

variable "audience" {
  type    = string
  default = "sts.amazonaws.com"
}

variable "create_provider" {
  type        = bool
  default     = true
  description = "Create the account's GitHub OIDC provider (there is one per account)."
}

variable "thumbprints" {
  type    = list(string)
  default = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

variable "policy_arns" {
  type        = list(string)
  default     = []
  description = "Managed policies to attach to the role."
}

variable "tags" {
  type    = map(string)
  default = {}
}

data "aws_caller_identity" "current" {}

resource "aws_iam_openid_connect_provider" "github" {
  count           = var.create_provider ? 1 : 0
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = [var.audience]
  thumbprint_list = var.thumbprints
  tags            = var.tags
}

locals {
  provider_arn = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = [var.audience]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = var.subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name               = var.role_name
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each   = toset(var.policy_arns)
  role       = aws_iam_role.deploy.name
  policy_arn = each.value
}

output "role_arn" {
  value = aws_iam_role.deploy.arn
}

output "provider_arn" {
  value = local.provider_arn
}
