//! A directory's privileged groups read from a real OpenLDAP server (slapd, started
//! here on an ephemeral port with its own database): nested groups, a membership cycle,
//! posixGroup members, accounts linked to persons by the directory's `mail`, and the
//! findings the import opens.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bantay_connect::{read_directory, DirectoryError, DirectorySource};
use bantay_server::{AccountsImport, ImportInput, SourceKind};

use crate::{on_both_backends, World};

const BASE: &str = "dc=customs,dc=example";

const LDIF: &str = "dn: dc=customs,dc=example
objectClass: dcObject
objectClass: organization
o: Bureau of Customs
dc: customs

dn: ou=people,dc=customs,dc=example
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=customs,dc=example
objectClass: organizationalUnit
ou: groups

dn: uid=areyes,ou=people,dc=customs,dc=example
objectClass: inetOrgPerson
uid: areyes
cn: Ana Reyes
sn: Reyes
mail: ana@customs.example

dn: uid=carl,ou=people,dc=customs,dc=example
objectClass: inetOrgPerson
uid: carl
cn: Carl Santos
sn: Santos

dn: uid=svc-backup,ou=people,dc=customs,dc=example
objectClass: inetOrgPerson
uid: svc-backup
cn: nightly backup
sn: backup

dn: cn=cps-dba,ou=groups,dc=customs,dc=example
objectClass: groupOfNames
cn: cps-dba
member: uid=areyes,ou=people,dc=customs,dc=example
member: cn=dba-oncall,ou=groups,dc=customs,dc=example
member: uid=gone,ou=people,dc=customs,dc=example

dn: cn=dba-oncall,ou=groups,dc=customs,dc=example
objectClass: groupOfUniqueNames
cn: dba-oncall
uniqueMember: uid=carl,ou=people,dc=customs,dc=example#'0101'B
uniqueMember: cn=cps-dba,ou=groups,dc=customs,dc=example

dn: cn=backup-ops,ou=groups,dc=customs,dc=example
objectClass: posixGroup
cn: backup-ops
gidNumber: 5001
memberUid: svc-backup

dn: cn=helpdesk,ou=groups,dc=customs,dc=example
objectClass: groupOfNames
cn: helpdesk
member: uid=carl,ou=people,dc=customs,dc=example
";

/// A slapd of our own: its configuration, database and port; stopped when dropped.
struct Slapd {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn slapd() -> Slapd {
    let bin = Path::new("/usr/sbin/slapd");
    assert!(bin.exists(), "slapd is missing: scripts/test installs it (apt-get install slapd)");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("db")).unwrap();
    let conf = format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {d}/slapd.pid
database mdb
maxsize 10485760
suffix \"{BASE}\"
rootdn \"cn=admin,{BASE}\"
rootpw secret
directory {d}/db
access to * by dn.exact=\"cn=reader,{BASE}\" read by anonymous auth by * none
",
        d = d.display()
    );
    std::fs::write(d.join("slapd.conf"), conf).unwrap();
    let reader = format!(
        "dn: cn=reader,{BASE}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: reader\nuserPassword: reader-pw\n"
    );
    std::fs::write(d.join("data.ldif"), format!("{LDIF}\n{reader}")).unwrap();
    let added = Command::new("/usr/sbin/slapadd")
        .args([
            "-f",
            &d.join("slapd.conf").display().to_string(),
            "-l",
            &d.join("data.ldif").display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "slapadd: {}", String::from_utf8_lossy(&added.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ldap://127.0.0.1:{port}");
    let mut child = Command::new(bin)
        .args([
            "-f",
            &d.join("slapd.conf").display().to_string(),
            "-h",
            &format!("{url}/"),
            "-d",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Slapd { child, url, _dir: dir };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("slapd did not listen on {url} within 10 s");
}

fn source(url: &str, groups: &[&str]) -> DirectorySource {
    DirectorySource {
        url: url.to_owned(),
        bind_dn: Some(format!("cn=reader,{BASE}")),
        password: Some("reader-pw".into()),
        base: BASE.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        full_control: true,
    }
}

on_both_backends! {
    async fn a_directorys_privileged_groups_are_read_from_a_real_slapd(backend) {
        let w = World::bureau(backend).await;
        let server = slapd();
        let read = read_directory(&source(&server.url, &["cps-dba", &format!("cn=backup-ops,ou=groups,{BASE}")])).await.unwrap();
        let accounts: Vec<(&str, Option<&str>, Vec<&str>)> = read
            .accounts
            .iter()
            .map(|a| (a.account.as_str(), a.mail.as_deref(), a.how.iter().map(String::as_str).collect()))
            .collect();
        let dba = format!("cn=cps-dba,ou=groups,{BASE}");
        assert_eq!(accounts, vec![
            ("areyes", Some("ana@customs.example"), vec![format!("member of {dba}").as_str()]),
            ("carl", None, vec![format!("member of {dba} through cn=dba-oncall,ou=groups,{BASE}").as_str()]),
            ("svc-backup", None, vec![format!("member of cn=backup-ops,ou=groups,{BASE} (memberUid)").as_str()]),
        ], "nested once despite the cycle; the dangling member is no account; helpdesk was not asked for");

        let from = w.size().await;
        let done = w.service.import_accounts(&w.operator(), AccountsImport {
            source: "ad-customs".into(),
            kind: SourceKind::Directory,
            resource: "cps-db-0".into(),
            inputs: vec![ImportInput { name: server.url.clone(), sha256: "0".repeat(64) }],
            accounts: read.accounts,
        }).await.unwrap();
        assert_eq!(done.linked, vec![("areyes".to_owned(), "ANA".to_owned()), ("carl".to_owned(), "CARL".to_owned())],
            "ANA by the directory's mail, CARL by his mail name");
        let links: Vec<String> = w.events().await[from..].iter().filter(|e| e["kind"] == "account.linked").map(|e| e["body"]["note"].as_str().unwrap().to_owned()).collect();
        assert_eq!(links, ["the source gives the holder's e-mail address", "the account bears the person's name"]);
        let opened: Vec<(String, String)> = w.events().await[from..].iter().filter(|e| e["kind"] == "finding.opened")
            .map(|e| (e["body"]["clause"].as_str().unwrap().to_owned(), e["body"]["subject"].as_str().unwrap().to_owned())).collect();
        assert_eq!(opened, [
            ("4.1".to_owned(), "areyes@ad-customs".to_owned()),
            ("4.1".to_owned(), "carl@ad-customs".to_owned()),
            ("4.5".to_owned(), "svc-backup@ad-customs".to_owned()),
        ], "no grant on record for either person; the service account is nobody's and undocumented");

        let e = read_directory(&source(&server.url, &["cps-admins"])).await.unwrap_err();
        assert!(matches!(e, DirectoryError::NoGroup { .. }), "{e}");
        assert!(e.to_string().contains("no group `cps-admins` under dc=customs,dc=example"), "{e}");
        let mut wrong = source(&server.url, &["cps-dba"]);
        wrong.password = Some("guess".into());
        let e = read_directory(&wrong).await.unwrap_err().to_string();
        assert!(e.contains(&server.url) && e.contains("binding as cn=reader"), "{e}");
        let mut anonymous = source(&server.url, &["cps-dba"]);
        anonymous.bind_dn = None;
        let e = read_directory(&anonymous).await.unwrap_err().to_string();
        assert!(e.contains("insufficientAccessRights"), "anonymous may not read this directory: {e}");
    }
}
