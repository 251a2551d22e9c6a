//! The shipped XForms are exactly what pyxform makes from the shipped XLSForms (real pyxform,
//! installed from PyPI into a venv by scripts/pyxform.sh), so the OpenRosa tests use real XForms.

#[test]
fn committed_xforms_are_pyxforms_output() {
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    for name in ["incident_fr", "perception_fr"] {
        let xml = out.path().join(format!("{name}.xml"));
        let st = std::process::Command::new("bash")
            .arg(format!("{root}/scripts/pyxform.sh"))
            .arg(format!("{root}/forms/{name}.xlsx"))
            .arg(&xml)
            .status()
            .unwrap();
        assert!(st.success(), "pyxform failed for {name}");
        let made = std::fs::read_to_string(&xml).unwrap();
        let committed = std::fs::read_to_string(format!("{root}/forms/{name}.xml")).unwrap();
        assert_eq!(made, committed, "forms/{name}.xml is stale: run scripts/pyxform.sh forms/{name}.xlsx forms/{name}.xml");
        vigie_domain::openrosa::xform::XForm::parse(made.as_bytes()).unwrap();
    }
}
