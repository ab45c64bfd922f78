use super::*;
use crate::refs::RefTarget;

struct TestScope;

impl Scope for TestScope {
    fn resolve(&self, t: &RefTarget) -> Result<Resolved, String> {
        match t {
            RefTarget::Var(n) if n == "name" => Ok(Resolved::plain("web".into())),
            RefTarget::Var(n) if n == "secret" => Ok(Resolved {
                value: "hunter2".into(),
                sens: Sens::All,
            }),
            RefTarget::Var(n) if n == "list" => {
                Ok(Resolved::plain(Value::List(vec!["a".into(), "b".into()])))
            }
            RefTarget::Resource(_, ty, n) if ty == "aws_vpc" && n == "main" => {
                Ok(Resolved::plain(Value::map([
                    ("id", Value::Unknown),
                    ("cidr_block", "10.0.0.0/16".into()),
                ])))
            }
            other => Err(format!("{} is not declared", describe_target(other))),
        }
    }
}

fn eval_src(src: &str) -> (Result<Value, Diagnostic>, bool) {
    let file = SourceFile::new("test.tf", format!("x = {src}\n"));
    let body = hcl_edit::parser::parse_body(&file.text).unwrap();
    let attr = body.get_attribute("x").unwrap();
    let mut ctx = EvalCtx::new(&TestScope, &file);
    let r = ctx.eval(&attr.value);
    (r, ctx.sensitive)
}

fn ok(src: &str) -> Value {
    eval_src(src).0.unwrap_or_else(|d| panic!("{src}: {d}"))
}

#[test]
fn templates_conditionals_and_for() {
    assert_eq!(ok(r#""${var.name}-${1 + 2}""#), Value::from("web-3"));
    assert_eq!(
        ok(r#"var.name == "web" ? "yes" : "no""#),
        Value::from("yes")
    );
    assert_eq!(
        ok(r#"[for s in var.list : upper(s) if s != "b"]"#),
        Value::List(vec!["A".into()])
    );
    assert_eq!(
        ok(r#"{ for i, s in var.list : s => i }"#),
        Value::map([("a", Value::from(0i64)), ("b", Value::from(1i64))])
    );
    assert_eq!(
        ok(r#""%{ for s in var.list }${s};%{ endfor }""#),
        Value::from("a;b;")
    );
    assert_eq!(
        ok(r#"[{a = 1}, {a = 2}][*].a"#),
        Value::List(vec![1i64.into(), 2i64.into()])
    );
}

#[test]
fn unknown_values_propagate() {
    assert_eq!(ok(r#""vpc-${aws_vpc.main.id}""#), Value::Unknown);
    assert_eq!(ok("aws_vpc.main.cidr_block"), Value::from("10.0.0.0/16"));
    assert_eq!(ok("aws_vpc.main.id == null ? 1 : 2"), Value::Unknown);
    assert_eq!(
        ok("try(aws_vpc.main.nope, \"fallback\")"),
        Value::from("fallback")
    );
}

#[test]
fn sensitivity_is_tracked() {
    let (r, s) = eval_src(r#""pw=${var.secret}""#);
    assert_eq!(r.unwrap(), Value::from("pw=hunter2"));
    assert!(s);
    assert!(!eval_src("var.name").1);
}

#[test]
fn errors_have_locations() {
    let d = eval_src("var.nope").0.unwrap_err();
    assert_eq!(d.summary, "Reference to undeclared input variable");
    let r = d.range.unwrap();
    assert_eq!((r.line, r.col), (1, 5));
    let d = eval_src("nosuch(1)").0.unwrap_err();
    assert_eq!(d.summary, "Call to unknown function");
    let d = eval_src("[1][3]").0.unwrap_err();
    assert_eq!(d.summary, "Invalid index");
}
