//! A plugin for contract `terrane:provider@0.2.0`, which this Terrane does not speak: the host
//! must refuse it with a message naming both versions.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

struct Future;

impl exports::terrane::provider::provider::Guest for Future {
    fn describe() -> String {
        "a plugin from the future".into()
    }
}

export!(Future);
