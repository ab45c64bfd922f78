//! AWS errors as users read them: `CreateSubnet: InvalidSubnet.Conflict: the CIDR ... conflicts`,
//! and which of them are worth retrying.

use std::sync::atomic::Ordering;
use std::time::Duration;

use terrane_core::ProviderError;

/// What every call of this crate returns: `Result<T>` is `Result<T, AwsError>`.
pub type Result<T, E = AwsError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct AwsError {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl AwsError {
    pub fn new(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            operation,
            code: code.into(),
            message: message.into(),
            retryable: false,
        }
    }

    pub fn into_provider_error(self) -> ProviderError {
        let mut e = ProviderError::new(self.to_string());
        e.retryable = self.retryable;
        e
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// The caller's credentials may not make this call (IAM `AccessDenied`, EC2
    /// `UnauthorizedOperation`, JSON services' `AccessDeniedException`).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
        )
    }

    pub fn is_not_found(&self) -> bool {
        // EC2 `InvalidVpcID.NotFound`, ECS `ClusterNotFoundException`, ELBv2
        // `LoadBalancerNotFound`, ElastiCache `ReplicationGroupNotFoundFault`, ECR
        // `RepositoryNotFoundException`, Logs/EKS `ResourceNotFoundException`, IAM `NoSuchEntity`.
        self.code.contains("NotFound") || self.code == "NoSuchEntity"
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.operation, self.code, self.message)
    }
}

/// Codes that mean "try again later".
const RETRYABLE: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "Unavailable",
];

/// Converts an SDK error of `operation`.
pub fn sdk<E, R>(operation: &'static str, e: aws_sdk_ec2::error::SdkError<E, R>) -> AwsError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ec2::error::{DisplayErrorContext, SdkError};
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("Unknown").to_string();
            let message = err.message().unwrap_or_default().to_string();
            let status = format!("{:?}", se.raw());
            let retryable = RETRYABLE.contains(&code.as_str()) || status.contains("StatusCode(5");
            AwsError {
                operation,
                code,
                message,
                retryable,
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            AwsError {
                operation,
                code: "RequestFailed".into(),
                message: format!("{}", DisplayErrorContext(&e)),
                retryable: true,
            }
        }
        _ => AwsError {
            operation,
            code: "RequestFailed".into(),
            message: format!("{}", DisplayErrorContext(&e)),
            retryable: false,
        },
    }
}

/// A lookup whose "not found" error means the object is absent.
pub fn absent_ok<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A delete's answer: not found means it is already gone, which is what a delete wants.
pub fn gone_ok<T>(r: Result<T>) -> Result<()> {
    absent_ok(r).map(|_| ())
}

/// Polls `f` with exponential backoff until it returns `Some`, or fails at `deadline`.
pub async fn wait_until<T, F, Fut>(
    what: &str,
    operation: &'static str,
    deadline: Duration,
    mut f: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) if e.retryable => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() >= deadline {
            return Err(AwsError::new(
                operation,
                "WaitTimeout",
                format!("{what} did not happen within {}", human(deadline)),
            ));
        }
        let jitter = Duration::from_millis(rand::random::<u64>() % 50);
        tokio::time::sleep(delay.min(deadline.saturating_sub(start.elapsed())) + jitter).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// `90s`, `20m`, `250ms`: as a `timeouts` block would write it.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        format!("{}ms", d.as_millis())
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Retries a delete while AWS reports that something still depends on the object
/// (DependencyViolation, DeleteConflict, ResourceInUse), until `deadline`.
pub async fn retry_dependency<F, Fut>(deadline: Duration, mut f: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match f().await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => {
                let conflict = e.is("DependencyViolation")
                    || e.is("DeleteConflict")
                    || e.code.contains("InUse");
                if conflict {
                    tracing::debug!(error = %e, "delete refused while something depends on the object; retrying");
                    let _ = CONFLICTS.try_with(|c| c.conflicts.fetch_add(1, Ordering::Relaxed));
                }
                if !(conflict || e.retryable) || start.elapsed() >= deadline {
                    return Err(e);
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

tokio::task_local! {
    /// The counters of the provider instance whose call is running (see [`counting`]).
    static CONFLICTS: std::sync::Arc<crate::config::Counters>;
}

/// Runs `f` with `counters` as the place where [`retry_dependency`] counts the deletes AWS
/// refused for a dependency.
pub async fn counting<F: std::future::Future>(
    counters: std::sync::Arc<crate::config::Counters>,
    f: F,
) -> F::Output {
    CONFLICTS.scope(counters, f).await
}

/// Deletes with `delete` (retried while something still depends on the object, as
/// [`retry_dependency`]), then polls `exists` until the object is gone; both within `deadline`.
pub async fn delete_and_wait<D, DF, G, GF>(
    what: &str,
    operation: &'static str,
    deadline: Duration,
    delete: D,
    mut exists: G,
) -> Result<()>
where
    D: FnMut() -> DF,
    DF: std::future::Future<Output = Result<()>>,
    G: FnMut() -> GF,
    GF: std::future::Future<Output = Result<bool>>,
{
    retry_dependency(deadline, delete).await?;
    wait_until(
        &format!("{what} to be deleted"),
        operation,
        deadline,
        || {
            let f = exists();
            async move { Ok((!f.await?).then_some(())) }
        },
    )
    .await
}

/// An object that vanished between our write and our read.
pub fn vanished(operation: &'static str, what: &str, id: &str) -> AwsError {
    AwsError::new(
        operation,
        "NotFoundAfterWrite",
        format!("{what} {id} does not exist"),
    )
}

/// Sends an SDK request and names its operation in the error: `call!(req, "CreateVpc")?` is
/// `req.send().await.or_sdk("CreateVpc")?`, the answer or an [`AwsError`].
macro_rules! call {
    ($req:expr, $op:literal) => {
        crate::error::OrSdk::or_sdk($req.send().await, $op)
    };
}

/// The `delete` of a type whose delete is one call that may find the object gone already
/// (which is what a delete wants), written as an item of its `impl AwsResource`: the client,
/// the call, and each setter with the state attribute it is given:
/// `delete_by! { logs.delete_log_group(log_group_name = "name") => "DeleteLogGroup" }`.
/// `delete_by! { retrying DELETE_TIMEOUT; ec2.delete_vpc(vpc_id = "id") => "DeleteVpc" }`: the
/// call sent again while something still depends on the object ([`delete_retrying!`], within
/// the state's `timeouts { delete }` or the default given).
/// (It writes the method as `#[async_trait]` would, which does not look inside macros.)
macro_rules! delete_by {
    (retrying $default:expr; $client:ident . $call:ident ($($set:ident = $attr:literal),+) => $op:literal) => {
        delete_by!(@method cx, state, {
            let text = |k| crate::resources::value::text_of(state, k);
            delete_retrying!(state, $default, cx.$client.$call()$(.$set(text($attr)))+, $op)
        });
    };
    ($client:ident . $call:ident ($($set:ident = $attr:literal),+) => $op:literal) => {
        delete_by!(@method cx, state, {
            let text = |k| crate::resources::value::text_of(state, k);
            let req = cx.$client.$call()$(.$set(text($attr)))+;
            crate::error::gone_ok(call!(req, $op))
        });
    };
    (@method $cx:ident, $state:ident, $body:block) => {
        fn delete<'life0, 'life1, 'life2, 'async_trait>(
            &'life0 self,
            $cx: &'life1 crate::config::Clients,
            $state: &'life2 terrane_core::Value,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = crate::error::Result<()>> + Send + 'async_trait>,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            'life2: 'async_trait,
        {
            Box::pin(async move $body)
        }
    };
}

/// What a describe or get call finds: its answer's `$field`, or the first of its list
/// `$field[0]`; not found is `Ok(None)`: `found!(cx.iam.get_role().role_name(n), "GetRole", role)?`.
macro_rules! found {
    ($req:expr, $op:literal, $field:ident) => {
        crate::error::absent_ok(call!($req, $op)).map(|o| o.and_then(|o| o.$field))
    };
    ($req:expr, $op:literal, $field:ident[0]) => {
        crate::error::absent_ok(call!($req, $op))
            .map(|o| o.and_then(|o| o.$field.unwrap_or_default().into_iter().next()))
    };
}

/// [`call!`] where only success counts: `done!(req, "DeleteVpc")?`.
macro_rules! done {
    ($req:expr, $op:literal) => {
        crate::error::OrSdk::done($req.send().await, $op)
    };
}

/// A delete (or a detach) sent again while something still depends on the object ([`retry_dependency`]),
/// within `$deadline`, or within the state's `timeouts { delete }` (`$default` without one):
/// `delete_retrying!(state, DELETE_TIMEOUT, cx.ec2.delete_vpc().vpc_id(&id), "DeleteVpc")`.
macro_rules! delete_retrying {
    ($deadline:expr, $req:expr, $op:literal) => {
        crate::error::retry_dependency($deadline, || async { done!($req, $op) }).await
    };
    ($state:ident, $default:expr, $req:expr, $op:literal) => {
        delete_retrying!(
            crate::resources::value::timeout($state, "delete", $default),
            $req,
            $op
        )
    };
}

/// An SDK call's answer with its error as `sdk(operation, e)`:
/// `call!(req, "CreateVpc")?`, or `.done("DeleteVpc")` where only success counts.
pub trait OrSdk<T> {
    fn or_sdk(self, operation: &'static str) -> Result<T>;
    fn done(self, operation: &'static str) -> Result<()>
    where
        Self: Sized,
    {
        self.or_sdk(operation).map(|_| ())
    }
}

impl<T, E, R> OrSdk<T> for std::result::Result<T, aws_sdk_ec2::error::SdkError<E, R>>
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn or_sdk(self, operation: &'static str) -> Result<T> {
        self.map_err(|e| sdk(operation, e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn err(code: &str) -> AwsError {
        AwsError::new("DeleteSubnet", code, "something depends on it")
    }

    #[tokio::test]
    async fn delete_conflicts_are_retried_until_the_dependency_is_gone() {
        let calls = AtomicUsize::new(0);
        let r = retry_dependency(Duration::from_secs(10), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(err("DependencyViolation")),
                1 => Err(err("ResourceInUse")),
                _ => Ok(()),
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn delete_conflicts_give_up_at_the_deadline_and_other_errors_at_once() {
        let r = retry_dependency(Duration::from_millis(300), || async {
            Err(err("DependencyViolation"))
        })
        .await;
        assert_eq!(r.unwrap_err().code, "DependencyViolation");
        let calls = AtomicUsize::new(0);
        let r = retry_dependency(Duration::from_secs(10), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(err("UnauthorizedOperation"))
        })
        .await;
        assert_eq!(r.unwrap_err().code, "UnauthorizedOperation");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Already gone is success.
        let r = retry_dependency(Duration::from_secs(1), || async {
            Err(err("InvalidSubnetID.NotFound"))
        })
        .await;
        assert!(r.is_ok());
    }

    #[tokio::test]
    async fn waits_end_at_their_deadline() {
        let r: Result<()> = wait_until(
            "the VPC to become available",
            "DescribeVpcs",
            Duration::from_millis(250),
            || async { Ok(None) },
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.code, "WaitTimeout");
        assert_eq!(
            e.to_string(),
            "DescribeVpcs: WaitTimeout: the VPC to become available did not happen within 250ms"
        );
    }

    #[test]
    fn errors_read_operation_code_message() {
        let e = AwsError::new(
            "CreateSubnet",
            "InvalidSubnet.Conflict",
            "The CIDR '10.0.1.0/24' conflicts with another subnet",
        );
        assert_eq!(
            e.to_string(),
            "CreateSubnet: InvalidSubnet.Conflict: The CIDR '10.0.1.0/24' conflicts with another subnet"
        );
        assert!(!e.into_provider_error().retryable);
    }
}
