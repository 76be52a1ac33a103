//! The microphone source's pure parts: device names and how cpal's errors are typed.

use super::*;

#[test]
fn subdevice_names_map_to_their_device() {
    assert_eq!(
        without_subdevice("hw:Loopback,1,0"),
        Ok(Some("hw:CARD=Loopback,DEV=1".into()))
    );
    assert_eq!(
        without_subdevice("plughw:CARD=1,DEV=0,SUBDEV=0"),
        Ok(Some("plughw:CARD=1,DEV=0".into()))
    );
    assert_eq!(without_subdevice("hw:Loopback,1"), Ok(None));
    assert_eq!(without_subdevice("default"), Ok(None));
    let err = without_subdevice("hw:Loopback,1,3").unwrap_err();
    assert!(err.contains("subdevice 3"), "{err}");
}

#[test]
fn missing_microphone_names_the_device() -> crate::TestResult {
    let err = AlsaMic::open(Some("hw:NoSuchCard,0"))
        .err()
        .ok_or("a missing microphone opened")?;
    let text = err.to_string();
    assert!(text.contains("hw:NoSuchCard,0"), "{text}");
    Ok(())
}

#[test]
fn cpal_errors_become_typed_capture_errors() {
    let kind = |k| classify("hw:1,0", &cpal::Error::new(k));
    assert!(matches!(
        kind(ErrorKind::PermissionDenied),
        CaptureError::MicrophonePermission { device } if device == "hw:1,0"
    ));
    assert!(matches!(
        kind(ErrorKind::DeviceBusy),
        CaptureError::MicrophoneBusy { .. }
    ));
    assert!(matches!(
        kind(ErrorKind::DeviceNotAvailable),
        CaptureError::MicrophoneNotFound { .. }
    ));
}
