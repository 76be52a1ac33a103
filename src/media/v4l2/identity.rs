//! Finding the same camera again after it went away: by its `/dev/v4l/by-id` link when udev
//! made one, else by the driver's bus and card name (VIDIOC_QUERYCAP) among the capture nodes
//! present. A camera unplugged and plugged back, or reset by USB, often returns under another
//! `/dev/videoN`; its bus and card stay.

use std::path::{Path, PathBuf};

use v4l::Device;

use super::{is_capture_node, video_nodes};
use crate::media::source::CameraId;

const BY_ID: &str = "/dev/v4l/by-id";

/// The camera at `path` as it can be found again.
pub(super) fn identify(path: &Path, bus_info: &str, card: &str) -> CameraId {
    CameraId {
        by_id: by_id_link(Path::new(BY_ID), path),
        bus_info: bus_info.to_string(),
        card: card.to_string(),
    }
}

/// The link in `dir` that leads to the same node as `path`, if any.
fn by_id_link(dir: &Path, path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    let mut links: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|link| std::fs::canonicalize(link).is_ok_and(|r| r == real))
        .collect();
    // One camera can have several links (its index0 and index1 nodes lead elsewhere); the
    // lowest name is the same one every time.
    links.sort();
    links.into_iter().next()
}

/// Where camera `id` is now, if it is connected.
pub fn find_camera(id: &CameraId) -> Option<PathBuf> {
    if let Some(link) = &id.by_id
        && let Ok(real) = std::fs::canonicalize(link)
    {
        return Some(real);
    }
    let present = video_nodes().into_iter().filter_map(|path| {
        let device = Device::with_path(&path).ok()?;
        if !is_capture_node(&device) {
            return None;
        }
        let caps = device.query_caps().ok()?;
        Some((path, caps.bus, caps.card))
    });
    pick_node(id, present)
}

/// The first capture node whose bus and card are the camera's.
fn pick_node(
    id: &CameraId,
    present: impl IntoIterator<Item = (PathBuf, String, String)>,
) -> Option<PathBuf> {
    present
        .into_iter()
        .find(|(_, bus, card)| *bus == id.bus_info && *card == id.card)
        .map(|(path, _, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webcam() -> CameraId {
        CameraId {
            by_id: None,
            bus_info: "usb-0000:00:14.0-2".into(),
            card: "HD Webcam".into(),
        }
    }

    #[test]
    fn the_same_camera_is_found_under_another_node() {
        let present = vec![
            (
                "/dev/video0".into(),
                "usb-0000:00:14.0-3".into(),
                "HD Webcam".into(),
            ),
            (
                "/dev/video4".into(),
                "usb-0000:00:14.0-2".into(),
                "HD Webcam".into(),
            ),
        ];
        // The same model on another port is another camera: only bus and card together match.
        assert_eq!(
            pick_node(&webcam(), present),
            Some(PathBuf::from("/dev/video4"))
        );
    }

    #[test]
    fn a_camera_not_back_is_not_found() {
        let present = vec![(
            PathBuf::from("/dev/video0"),
            "platform:vivid-000".to_string(),
            "vivid".to_string(),
        )];
        assert_eq!(pick_node(&webcam(), present), None);
    }

    #[test]
    fn the_by_id_link_of_a_node_is_found() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let (node, other) = (dir.path().join("video7"), dir.path().join("video8"));
        std::fs::write(&node, b"")?;
        std::fs::write(&other, b"")?;
        let links = dir.path().join("by-id");
        std::fs::create_dir(&links)?;
        std::os::unix::fs::symlink(&other, links.join("usb-Other-video-index0"))?;
        std::os::unix::fs::symlink(&node, links.join("usb-Cam_123-video-index0"))?;
        assert_eq!(
            by_id_link(&links, &node),
            Some(links.join("usb-Cam_123-video-index0"))
        );
        assert_eq!(by_id_link(&links, &dir.path().join("video9")), None);
        Ok(())
    }

    #[test]
    fn a_by_id_link_that_leads_somewhere_is_where_the_camera_is() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let node = dir.path().join("video3");
        std::fs::write(&node, b"")?;
        let link = dir.path().join("usb-Cam_123-video-index0");
        std::os::unix::fs::symlink(&node, &link)?;
        let id = CameraId {
            by_id: Some(link),
            ..webcam()
        };
        assert_eq!(find_camera(&id), Some(std::fs::canonicalize(&node)?));
        Ok(())
    }
}
