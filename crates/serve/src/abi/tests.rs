//! Every struct mirrored in `abi` against the kernel's `linux/fuse.h`, compiled by the system C
//! compiler: the same size and the same offset for every field.

use super::*;
use std::mem::{offset_of, size_of};

macro_rules! layout {
    ($($t:ident { $($f:ident),* $(,)? })*) => {
        vec![$((stringify!($t), size_of::<$t>(), vec![$((stringify!($f), offset_of!($t, $f))),*])),*]
    };
}

#[test]
fn the_structs_match_the_kernels_header() {
    let ours = layout! {
        fuse_in_header { len, opcode, unique, nodeid, uid, gid, pid, total_extlen, padding }
        fuse_out_header { len, error, unique }
        fuse_init_in { major, minor, max_readahead, flags }
        fuse_init_out { major, minor, max_readahead, flags, max_background, congestion_threshold, max_write,
                        time_gran, max_pages, map_alignment, flags2, unused }
        fuse_attr { ino, size, blocks, atime, mtime, ctime, atimensec, mtimensec, ctimensec, mode, nlink, uid,
                    gid, rdev, blksize, flags }
        fuse_entry_out { nodeid, generation, entry_valid, attr_valid, entry_valid_nsec, attr_valid_nsec, attr }
        fuse_attr_out { attr_valid, attr_valid_nsec, dummy, attr }
        fuse_open_out { fh, open_flags, padding }
        fuse_open_in { flags, open_flags }
        fuse_read_in { fh, offset, size, read_flags, lock_owner, flags, padding }
        fuse_kstatfs { blocks, bfree, bavail, files, ffree, bsize, namelen, frsize, padding, spare }
        fuse_getxattr_in { size, padding }
        fuse_getxattr_out { size, padding }
        fuse_dirent { ino, off, namelen, r#type }
    };
    let mut c = String::from("#include <stddef.h>\n#include <stdio.h>\n#include <linux/fuse.h>\nint main(void) {\n");
    for (t, _, fields) in &ours {
        c += &format!("printf(\"{t} %zu\\n\", sizeof(struct {t}));\n");
        for (f, _) in fields {
            let f = f.trim_start_matches("r#");
            c += &format!("printf(\"{t}.{f} %zu\\n\", offsetof(struct {t}, {f}));\n");
        }
    }
    c += "printf(\"name %zu\\n\", offsetof(struct fuse_dirent, name));\nreturn 0;\n}\n";
    let dir = std::env::temp_dir().join(format!("dset-split-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("abi.c"), c).unwrap();
    let cc = std::process::Command::new("cc").arg("-o").arg(dir.join("abi")).arg(dir.join("abi.c")).output().unwrap();
    assert!(cc.status.success(), "{}", String::from_utf8_lossy(&cc.stderr));
    let out = std::process::Command::new(dir.join("abi")).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let theirs: std::collections::HashMap<String, usize> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    for (t, size, fields) in &ours {
        // Only the first part of fuse_init_in is read (what every kernel sends).
        if *t != "fuse_init_in" {
            assert_eq!(theirs[*t], *size, "size of {t}");
        }
        for (f, at) in fields {
            assert_eq!(theirs[&format!("{t}.{}", f.trim_start_matches("r#"))], *at, "{t}.{f}");
        }
    }
    assert_eq!(theirs["name"], size_of::<fuse_dirent>());
}
