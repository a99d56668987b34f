//! `bulwark_detect::config` over an arbitrary image config: the config checks (user, ports,
//! `Env`, history steps, healthcheck, base name) and the base-layer rule over its history.
//! Must never panic; findings must be sorted worst first, never echo an `Env` value, and the
//! base image can never have more layers than the image.

#![no_main]

use bulwark_detect::config;
use bulwark_image::spec::ImageConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = ImageConfig::parse(data, "fuzz") else { return };
    let findings = config::check_image_config(&cfg);
    assert!(findings.windows(2).all(|w| w[0].severity >= w[1].severity));
    for f in findings.iter().filter(|f| f.id == config::ENV_SECRET) {
        // The message is the fixed template around a variable name: no value can be in it.
        let name = f
            .message
            .strip_prefix("Env variable ")
            .and_then(|m| m.strip_suffix(" has a value set in the image (value not shown)"));
        let name = name.unwrap_or_else(|| panic!("{}", f.message));
        assert!(cfg.config.env.iter().any(|e| e.split_once('=').is_some_and(|(n, _)| n == name)));
    }
    let layers = cfg.layer_history().len();
    for n in [layers, layers + 1] {
        if let Some(base) = config::base_layers_in(&cfg.history, n) {
            assert!(base.count <= n);
        }
    }
});
