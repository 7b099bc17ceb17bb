//! Any text as sudoers, /etc/passwd, /etc/group or an application's role export. Nothing
//! panics; a sudoers file that parses can be read for every account on a host.
#![no_main]

use bantay_connect::linux::sudoers::{self, NoIncludes};
use bantay_connect::linux::{parse_group, parse_passwd, privileged_accounts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match which % 4 {
        0 | 1 => {
            if let Ok(policy) = sudoers::parse(text, "sudoers", &mut NoIncludes) {
                let passwd = parse_passwd("root:x:0:0::/root:/bin/sh\nops:x:1000:1000::/home/ops:/bin/sh\n", "p").unwrap();
                let group = parse_group("wheel:x:10:ops\n", "g").unwrap();
                let _ = privileged_accounts("host1.example", &passwd, &group, &policy);
            }
        }
        2 => {
            let _ = parse_passwd(text, "passwd");
            let _ = parse_group(text, "group");
            let _ = sudoers::parse_timeout(text);
            let _ = sudoers::parse_generalized_time(text);
        }
        _ => {
            let _ = bantay_connect::read_app_export(text, std::path::Path::new("export.csv"));
        }
    }
});
