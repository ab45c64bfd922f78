//! aws_cloudwatch_metric_alarm: an alarm on one metric (delivery's automatic rollback watches
//! one).

use super::*;
use crate::error::Result;

async fn describe(cx: &Clients, name: &str) -> Result<Option<t::MetricAlarm>> {
    let out = call!(
        cx.cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .alarm_types(t::AlarmType::MetricAlarm),
        "DescribeAlarms"
    )?;
    Ok(out
        .metric_alarms
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.alarm_name() == Some(name)))
}

fn state(a: &t::MetricAlarm, read_tags: BTreeMap<String, String>, prior: &Value) -> Value {
    let tags = read_tags;
    let dimensions = Value::Map(
        a.dimensions()
            .iter()
            .filter_map(|d| Some((d.name()?.to_string(), Value::from(d.value()?))))
            .collect(),
    );
    tags::tagged(
        Value::map([
            ("id", opt_s(a.alarm_name())),
            ("arn", opt_s(a.alarm_arn())),
            ("alarm_name", opt_s(a.alarm_name())),
            ("alarm_description", opt_s(a.alarm_description())),
            (
                "comparison_operator",
                opt_s(a.comparison_operator().map(|c| c.as_str())),
            ),
            ("evaluation_periods", opt_n(a.evaluation_periods())),
            ("datapoints_to_alarm", opt_n(a.datapoints_to_alarm())),
            ("metric_name", opt_s(a.metric_name())),
            ("namespace", opt_s(a.namespace())),
            ("period", opt_n(a.period())),
            ("statistic", opt_s(a.statistic().map(|s| s.as_str()))),
            ("extended_statistic", opt_s(a.extended_statistic())),
            ("threshold", opt_n(a.threshold())),
            ("threshold_metric_id", opt_s(a.threshold_metric_id())),
            ("unit", opt_s(a.unit().map(|u| u.as_str()))),
            (
                "treat_missing_data",
                Value::from(a.treat_missing_data().unwrap_or("missing")),
            ),
            (
                "evaluate_low_sample_count_percentiles",
                opt_s(a.evaluate_low_sample_count_percentile()),
            ),
            (
                "actions_enabled",
                Value::Bool(a.actions_enabled().unwrap_or(true)),
            ),
            ("alarm_actions", str_set(a.alarm_actions())),
            ("ok_actions", str_set(a.ok_actions())),
            (
                "insufficient_data_actions",
                str_set(a.insufficient_data_actions()),
            ),
            ("dimensions", dimensions),
        ]),
        tags,
        prior,
    )
}

/// Creates or replaces the alarm with the planned settings (`PutMetricAlarm` is an upsert by
/// name, so a retry after a lost answer changes nothing).
async fn put_alarm(cx: &Clients, planned: &Value, tags: Option<Vec<t::Tag>>) -> Result<()> {
    let n = |k: &str| planned.get(k).and_then(Value::as_f64);
    let dims: Vec<t::Dimension> = str_map(planned, "dimensions")
        .into_iter()
        .map(|(k, v)| t::Dimension::builder().name(k).value(v).build())
        .collect();
    done!(
        cx.cloudwatch
            .put_metric_alarm()
            .alarm_name(text_of(planned, "alarm_name"))
            .set_alarm_description(str_of(planned, "alarm_description").map(String::from))
            .comparison_operator(t::ComparisonOperator::from(text_of(
                planned,
                "comparison_operator",
            )))
            .set_evaluation_periods(n("evaluation_periods").map(|x| x as i32))
            .set_datapoints_to_alarm(n("datapoints_to_alarm").map(|x| x as i32))
            .set_metric_name(str_of(planned, "metric_name").map(String::from))
            .set_namespace(str_of(planned, "namespace").map(String::from))
            .set_period(n("period").map(|x| x as i32))
            .set_statistic(str_of(planned, "statistic").map(t::Statistic::from))
            .set_extended_statistic(str_of(planned, "extended_statistic").map(String::from))
            .set_threshold(n("threshold"))
            .set_threshold_metric_id(str_of(planned, "threshold_metric_id").map(String::from))
            .set_unit(str_of(planned, "unit").map(t::StandardUnit::from))
            .set_treat_missing_data(str_of(planned, "treat_missing_data").map(String::from))
            .set_evaluate_low_sample_count_percentile(
                str_of(planned, "evaluate_low_sample_count_percentiles").map(String::from),
            )
            .actions_enabled(bool_of(planned, "actions_enabled").unwrap_or(true))
            .set_alarm_actions(Some(strs_of(planned, "alarm_actions")))
            .set_ok_actions(Some(strs_of(planned, "ok_actions")))
            .set_insufficient_data_actions(Some(strs_of(planned, "insufficient_data_actions")))
            .set_dimensions(Some(dims))
            .set_tags(tags),
        "PutMetricAlarm"
    )
}

#[async_trait]
impl AwsResource for MetricAlarm {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let alarms = pages!(
            cx.cloudwatch
                .describe_alarms()
                .alarm_types(t::AlarmType::MetricAlarm),
            "DescribeAlarms",
            metric_alarms
        );
        let mut out = Vec::new();
        for a in alarms {
            let t = read_tags(cx, a.alarm_arn().unwrap_or_default()).await?;
            out.push(Listed::new(state(&a, t, &Value::Null)));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        let name = string_of(planned, "alarm_name");
        put_alarm(cx, planned, Some(tags::to_sdk(&tags::wanted(planned)))).await?;
        read_back(self, cx, &name, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let Some(a) = describe(cx, id).await? else {
            return Ok(None);
        };
        let t = read_tags(cx, a.alarm_arn().unwrap_or_default()).await?;
        Ok(Some(state(&a, t, prior)))
    }

    async fn modify(&self, cx: &Clients, _prior: &Value, planned: &Value) -> Result<()> {
        put_alarm(cx, planned, None).await
    }

    delete_by! { cloudwatch.delete_alarms(alarm_names = "alarm_name") => "DeleteAlarms" }
}
