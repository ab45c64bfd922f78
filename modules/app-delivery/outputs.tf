output "repository_url" {
  value = aws_ecr_repository.this.repository_url
}

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "live_url" {
  value = "http://${aws_lb.this.dns_name}:${var.live_port}"
}

output "test_url" {
  value = "http://${aws_lb.this.dns_name}:${var.test_port}"
}

output "live_colour" {
  value = local.release.live
}

output "target_group_arns" {
  value = { for c, tg in aws_lb_target_group.this : c => tg.arn }
}

output "listener_arns" {
  value = { live = aws_lb_listener.live.arn, test = aws_lb_listener.test.arn }
}
