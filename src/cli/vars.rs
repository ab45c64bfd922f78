//! Root variable values, from (lowest to highest precedence): TF_VAR_name environment variables,
//! terraform.tfvars, terraform.tfvars.json, *.auto.tfvars and *.auto.tfvars.json (in name
//! order), -var-file files (HCL, or JSON when the name ends in .json), then -var flags. Missing
//! required values are asked for on a terminal unless -input=false.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use terrane_core::{Diagnostic, Diagnostics, Value};
use terrane_engine::config::{load_var_file_values, parse_cli_value, Config};

use super::args::VarArgs;

pub fn collect(
    config: &Config,
    args: &VarArgs,
    input: bool,
) -> Result<(BTreeMap<String, Value>, Vec<Diagnostic>), Diagnostics> {
    let decl = &config.root.variables;
    let mut vals = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut diags = Diagnostics::new();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            if let Some(d) = decl.get(name) {
                match parse_cli_value(name, &v, d.ty.as_ref()) {
                    Ok(x) => {
                        vals.insert(name.to_string(), x);
                    }
                    Err(e) => diags.push(e),
                }
            }
        }
    }
    let dir = &config.root.dir;
    let mut files = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        if dir.join(name).is_file() {
            files.push(dir.join(name));
        }
    }
    let mut autos: Vec<_> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let p = p.to_string_lossy();
                    p.ends_with(".auto.tfvars") || p.ends_with(".auto.tfvars.json")
                })
                .collect()
        })
        .unwrap_or_default();
    autos.sort();
    files.extend(autos);
    files.extend(args.var_files.iter().map(std::path::PathBuf::from));
    for f in files {
        match load_var_file_values(&f) {
            Ok(m) => {
                for (k, v) in m {
                    if decl.contains_key(&k) {
                        vals.insert(k, v);
                    } else {
                        warnings.push(Diagnostic::warning("Value for undeclared variable", format!("The file {} assigns a value to {k:?}, but the root module does not declare a variable of that name.", f.display())));
                    }
                }
            }
            Err(d) => diags.extend(d),
        }
    }
    for raw in &args.vars {
        let Some((name, value)) = raw.split_once('=') else {
            diags.push(Diagnostic::error("Invalid -var option", format!("The given -var option {raw:?} is not correctly specified. It must be a variable name and value separated by an equals sign, like -var=\"key=value\".")));
            continue;
        };
        let name = name.trim();
        match decl.get(name) {
            None => diags.push(Diagnostic::error("Value for undeclared variable", format!("A variable named {name:?} was assigned on the command line, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."))),
            Some(d) => match parse_cli_value(name, value, d.ty.as_ref()) {
                Ok(x) => {
                    vals.insert(name.to_string(), x);
                }
                Err(e) => diags.push(e),
            },
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if input && std::io::stdin().is_terminal() {
        for (name, d) in decl {
            if d.default.is_none() && !vals.contains_key(name) {
                print!(
                    "var.{name}\n  {}\n\n  Enter a value: ",
                    d.description.clone().unwrap_or_default()
                );
                let _ = std::io::stdout().flush();
                let mut line = String::new();
                if std::io::stdin().lock().read_line(&mut line).is_ok() {
                    let v =
                        parse_cli_value(name, line.trim_end_matches(['\n', '\r']), d.ty.as_ref())
                            .map_err(Diagnostics::from)?;
                    vals.insert(name.clone(), v);
                }
            }
        }
    }
    Ok((vals, warnings))
}
