//! AWS errors as users read them: `CreateSubnet: InvalidSubnet.Conflict: the CIDR ... conflicts`,
//! and which of them are worth retrying.

use std::time::Duration;

use terrane_core::ProviderError;

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
pub fn absent_ok<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Polls `f` with exponential backoff until it returns `Some`, or fails at `deadline`.
pub async fn wait_until<T, F, Fut>(
    what: &str,
    operation: &'static str,
    deadline: Duration,
    mut f: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, AwsError>>,
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
                format!("{what} did not happen within {}s", deadline.as_secs()),
            ));
        }
        let jitter = Duration::from_millis(rand::random::<u64>() % 50);
        tokio::time::sleep(delay.min(deadline.saturating_sub(start.elapsed())) + jitter).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// Retries a delete while AWS reports that something still depends on the object
/// (DependencyViolation, DeleteConflict, ResourceInUse), until `deadline`.
pub async fn retry_dependency<F, Fut>(deadline: Duration, mut f: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match f().await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e)
                if (e.is("DependencyViolation")
                    || e.is("DeleteConflict")
                    || e.code.contains("InUse")
                    || e.retryable)
                    && start.elapsed() < deadline =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes with `delete` (retried while something still depends on the object, as
/// [`retry_dependency`]), then polls `exists` until the object is gone; both within `deadline`.
pub async fn delete_and_wait<D, DF, G, GF>(
    what: &str,
    operation: &'static str,
    deadline: Duration,
    delete: D,
    mut exists: G,
) -> Result<(), AwsError>
where
    D: FnMut() -> DF,
    DF: std::future::Future<Output = Result<(), AwsError>>,
    G: FnMut() -> GF,
    GF: std::future::Future<Output = Result<bool, AwsError>>,
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
