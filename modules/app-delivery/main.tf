# Blue/green delivery of one app on ECS behind one application load balancer
# (../shared/seeds/001: two services, two target groups, a live and a test listener).
#
# What `terrane deliver` controls (which colour is live, the live listener's weights, the task
# definition revision each colour runs, the IsProduction tags) is read from the recorded
# release (data "terrane_release"), so after any deliver command `terrane plan` shows no
# changes, with no ignore_changes anywhere.

data "terrane_release" "this" {
  app = var.name
}

locals {
  colours = toset(["blue", "green"])
  release = data.terrane_release.this
  # A colour runs its release's revision once a release set one, else the module's own.
  task_definition = {
    for c in local.colours : c => (
      local.release.task_definitions[c] != "" ? local.release.task_definitions[c] : aws_ecs_task_definition.this[c].arn
    )
  }
}

resource "aws_ecr_repository" "this" {
  name = var.name
  # Release tags (build number, git sha) never move; `latest` does.
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"
  image_tag_mutability_exclusion_filter {
    filter      = "latest"
    filter_type = "WILDCARD"
  }
  force_delete = var.force_delete
  tags         = var.tags
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags
}

resource "aws_security_group" "lb" {
  name        = "${var.name}-lb"
  description = "Load balancer of ${var.name}: live and test listeners"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    from_port   = var.live_port
    to_port     = var.live_port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port   = var.test_port
    to_port     = var.test_port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: reached from the load balancer"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    from_port       = var.container_port
    to_port         = var.container_port
    protocol        = "tcp"
    security_groups = [aws_security_group.lb.id]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "this" {
  name            = substr(var.name, 0, 32)
  subnets         = var.subnet_ids
  security_groups = [aws_security_group.lb.id]
  tags            = var.tags
}

resource "aws_lb_target_group" "this" {
  for_each    = local.colours
  name        = substr("${var.name}-${each.key}", 0, 32)
  port        = var.container_port
  protocol    = "HTTP"
  vpc_id      = var.vpc_id
  target_type = "ip"
  tags        = merge(var.tags, { Colour = each.key, IsProduction = tostring(local.release.production == each.key) })

  health_check {
    path = var.health_check_path
  }
}

# Live traffic: weighted between the colours (100/0 but during a canary or linear shift).
resource "aws_lb_listener" "live" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.live_port
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.this["blue"].arn
        weight = local.release.weights["blue"]
      }
      target_group {
        arn    = aws_lb_target_group.this["green"].arn
        weight = local.release.weights["green"]
      }
    }
  }
}

# Test traffic: all of it to the colour under test (the idle one).
resource "aws_lb_listener" "test" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.test_port
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.this["blue"].arn
        weight = local.release.test == "blue" ? 100 : 0
      }
      target_group {
        arn    = aws_lb_target_group.this["green"].arn
        weight = local.release.test == "green" ? 100 : 0
      }
    }
  }
}

data "aws_iam_policy_document" "tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-exec"
  assume_role_policy = data.aws_iam_policy_document.tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 14
  tags              = var.tags
}

# The first deploy's task definitions (one family per colour); releases register new
# revisions of these families, pinned to an image digest.
resource "aws_ecs_task_definition" "this" {
  for_each                 = local.colours
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  tags                     = var.tags

  container_definitions = jsonencode([{
    name         = var.name
    image        = var.image
    essential    = true
    portMappings = [{ containerPort = var.container_port, protocol = "tcp" }]
    environment  = [{ name = "COLOUR", value = each.key }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.this.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "this" {
  for_each        = local.colours
  name            = "${var.name}-${each.key}"
  cluster         = aws_ecs_cluster.this.id
  task_definition = local.task_definition[each.key]
  # After a promote with a scale-down delay, the old colour runs 0 tasks until the next deploy.
  desired_count = local.release.desired_counts[each.key] >= 0 ? local.release.desired_counts[each.key] : var.desired_count
  launch_type   = "FARGATE"
  tags          = merge(var.tags, { Colour = each.key, IsProduction = tostring(local.release.production == each.key) })

  deployment_controller {
    type = "ECS"
  }

  network_configuration {
    subnets         = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this[each.key].arn
    container_name   = var.name
    container_port   = var.container_port
  }

  # ECS takes a target group only once a listener forwards to it.
  depends_on = [aws_lb_listener.live, aws_lb_listener.test, aws_iam_role_policy_attachment.execution]
}

# One alarm per colour, on its target group: promote watches the new colour's while it takes
# traffic and through the bake time. (One per colour, so no dimension changes with a release.)
resource "aws_cloudwatch_metric_alarm" "colour" {
  for_each            = var.alarm ? local.colours : toset([])
  alarm_name          = "${var.name}-${each.key}-5xx"
  alarm_description   = "Target 5xx answers of ${var.name}'s ${each.key} colour: terrane deliver promote rolls back when this is in ALARM while ${each.key} takes new traffic."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "HTTPCode_Target_5XX_Count"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  statistic           = "Sum"
  threshold           = var.alarm_threshold
  treat_missing_data  = "notBreaching"
  dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.this[each.key].arn_suffix
  }
  tags = var.tags
}
