//! aws_eks_cluster, aws_eks_node_group, aws_eks_fargate_profile.

use crate::error::OrSdk;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eks::types as t;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::{delete_and_wait, wait_until, AwsError, Result};
use crate::resources::kind::{AwsResource, Found, Listed, Planning};
use crate::resources::lifecycle::{read_each, retry_iam_propagation, timeout};
use crate::resources::value::{
    block, blocks, bool_of, changed, empty_sets_for_null, int_of, map_value, opt_n, opt_s, put,
    str_map, str_of, str_set, string_of, strs_of, text_of,
};
use crate::tags;

pub struct EksCluster;
pub struct NodeGroup;
pub struct FargateProfile;

const CLUSTER_CREATE: Duration = Duration::from_secs(1800);
const CLUSTER_UPDATE: Duration = Duration::from_secs(3600);
const CLUSTER_DELETE: Duration = Duration::from_secs(900);
const NODEGROUP_TIMEOUT: Duration = Duration::from_secs(3600);
const FARGATE_TIMEOUT: Duration = Duration::from_secs(600);

fn create_tags(planned: &Value, token: &str) -> HashMap<String, String> {
    tags::for_create_map(planned, token).into_iter().collect()
}

fn read_tags(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

tag_api! { by arn: sync fn sync_tags = eks, crate::tags::to_hash_map }

/// The status of a described EKS object, as a string (`""` when AWS gives none).
trait Status {
    fn status_str(&self) -> &str;
    /// Not on its way out: a DELETING object reads as gone.
    fn live(&self) -> bool {
        self.status_str() != "DELETING"
    }
}

/// The state of what a describe found, unless it is being deleted (then it reads as gone).
fn live_state<T: Status>(
    found: Option<T>,
    state: impl FnOnce(&T) -> Value,
) -> Result<Option<Value>> {
    Ok(found.filter(Status::live).map(|x| state(&x)))
}

macro_rules! status {
    ($($ty:ty),*) => {$(
        impl Status for $ty {
            fn status_str(&self) -> &str {
                self.status().map_or("", |s| s.as_str())
            }
        }
    )*};
}
status!(t::Cluster, t::Nodegroup, t::FargateProfile);

/// Waits until `get` reports ACTIVE (failing fast on a FAILED status).
async fn wait_active<T: Status, F, Fut>(
    what: &str,
    op: &'static str,
    deadline: Duration,
    mut get: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    wait_until(&format!("{what} to become ACTIVE"), op, deadline, || {
        let f = get();
        async move {
            match f.await? {
                Some(v) if v.status_str().contains("FAILED") => Err(AwsError::new(
                    op,
                    "ResourceFailed",
                    format!("{what} is {}", v.status_str()),
                )),
                Some(v) if v.status_str() == "ACTIVE" => Ok(Some(v)),
                _ => Ok(None),
            }
        }
    })
    .await
}

/// The names of every EKS cluster, all pages.
async fn cluster_names(cx: &Clients) -> Result<Vec<String>> {
    let items = pages!(cx.eks.list_clusters(), "ListClusters", clusters);
    Ok(items.collect())
}

/// The `CLUSTER:NAME` ids of every object a per-cluster listing returns, in every cluster:
/// `in_clusters!(cx, list_nodegroups, "ListNodegroups", nodegroups)`.
macro_rules! in_clusters {
    ($cx:expr, $call:ident, $op:literal, $list:ident) => {{
        let mut ids = Vec::new();
        for c in super::cluster_names($cx).await? {
            let names = pages!($cx.eks.$call().cluster_name(&c), $op, $list);
            ids.extend(names.map(|n| format!("{c}:{n}")));
        }
        ids
    }};
}

mod cluster;
mod fargate_profile;
mod node_group;
