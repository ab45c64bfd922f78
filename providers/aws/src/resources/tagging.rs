//! Each service's tagging adapter, declared in one line of its `mod.rs` (as terraform-provider-aws
//! generates its tag code per service): [`tag_api!`] writes the function that makes an object's
//! tags the planned `tags_all` with the service's untag and tag calls, and the one that reads
//! them with its listing call. The SDK's tag types meet the maps in `crate::tags` (`SdkTag`).
//! A row of the table names its type's sync function and the attribute that names the object to
//! it ([`Kind::tags_by`](crate::resources::kind::Kind::tags_by)), and the generic update calls it.

/// A service's tag synchronisation, `tag_api! { sync fn ... }`: makes the tags of the object
/// that `target` names (its ARN or name) the planned `tags_all`.
pub type SyncTags = for<'a> fn(
    &'a crate::config::Clients,
    &'a str,
    &'a terrane_core::Value,
    &'a terrane_core::Value,
) -> futures::future::BoxFuture<'a, crate::error::Result<()>>;

/// A service's tagging functions.
///
/// - `tag_api! { sync fn NAME = CLIENT: UNTAG.SETTER => "Op", TAG.SETTER => "Op", TO_SDK }`: an
///   `async fn NAME(cx, target, prior, planned)` that removes the keys no longer planned
///   (`set_tag_keys`) and adds or changes the rest (`set_tags` of `TO_SDK(&changed)`) on the
///   object `target` names (its ARN or name, given to `SETTER`), calling neither when it has
///   nothing to do; `UNTAG[SETTER(VALUE)]` and `TAG[...]` set what else the calls need first
///   (SSM's resource type);
/// - `tag_api! { read fn NAME = CLIENT: LIST.SETTER => "Op", FIELD }`: an
///   `async fn NAME(cx, target)` with the tags the listing's `FIELD` holds.
/// - `tag_api! { by arn: sync fn NAME = CLIENT, TO_SDK }` and
///   `tag_api! { by arn: read fn NAME = CLIENT, FIELD }`: the same for the services whose calls are
///   `UntagResource`, `TagResource` and `ListTagsForResource` of a `resource_arn` (CloudWatch,
///   ECR, ECS, EKS, Logs).
macro_rules! tag_api {
    (by arn: sync fn $name:ident = $client:ident, $to_sdk:expr) => {
        tag_api! { sync fn $name = $client: untag_resource.resource_arn => "UntagResource",
        tag_resource.resource_arn => "TagResource", $to_sdk }
    };
    (by arn: read fn $name:ident = $client:ident, $field:ident) => {
        tag_api! { read fn $name = $client:
        list_tags_for_resource.resource_arn => "ListTagsForResource", $field }
    };
    (sync fn $name:ident = $client:ident:
        $untag:ident $([$($upre:ident($upv:expr)),*])? . $uset:ident => $uop:literal,
        $tag:ident $([$($tpre:ident($tpv:expr)),*])? . $tset:ident => $top:literal,
        $to_sdk:expr $(,)?) => {
        /// Makes the object's tags the planned `tags_all`: a
        /// [`SyncTags`](crate::resources::tagging::SyncTags), which a row of the table names.
        pub(crate) fn $name<'a>(
            cx: &'a crate::config::Clients,
            target: &'a str,
            prior: &'a terrane_core::Value,
            planned: &'a terrane_core::Value,
        ) -> futures::future::BoxFuture<'a, Result<(), crate::error::AwsError>> {
            Box::pin(async move {
                let (removed, changed) = crate::tags::diff(prior, planned);
                if !removed.is_empty() {
                    let req = cx.$client.$untag()$($(.$upre($upv))*)?;
                    let req = req.$uset(target).set_tag_keys(Some(removed));
                    req.send().await.map_err(|e| crate::error::sdk($uop, e))?;
                }
                if !changed.is_empty() {
                    let req = cx.$client.$tag()$($(.$tpre($tpv))*)?;
                    let req = req.$tset(target).set_tags(Some($to_sdk(&changed)));
                    req.send().await.map_err(|e| crate::error::sdk($top, e))?;
                }
                Ok(())
            })
        }
    };
    (read fn $name:ident = $client:ident:
        $list:ident $([$($pre:ident($pv:expr)),*])? . $set:ident => $op:literal, $field:ident) => {
        /// The tags the object carries.
        async fn $name(
            cx: &crate::config::Clients,
            target: &str,
        ) -> Result<std::collections::BTreeMap<String, String>, crate::error::AwsError> {
            let req = cx.$client.$list()$($(.$pre($pv))*)?.$set(target);
            let out = req.send().await.map_err(|e| crate::error::sdk($op, e))?;
            Ok(crate::tags::from_sdk(out.$field()))
        }
    };
}
