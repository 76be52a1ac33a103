#!/bin/sh
# /init of the test VM (see tests/vm/run.sh): loads the kernel's virtual devices, runs booth in
# each scenario, and writes what happened under /out/<scenario>/ for tests/vm.rs to judge on the
# host. It judges nothing itself, except that the setup worked (setup.err names what did not).
#
# Per scenario:  stdout, stderr, exit (booth's exit code), booth.log (its full log), the MP4,
# and whatever else the scenario notes (info.txt). /out/done marks a complete run.
#
# Inputs in /in (from tests/vm.rs): tone-a.wav and tone-b.wav, 48 kHz mono 16-bit.

export PATH=/bin:/usr/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /out
exec >/out/init.log 2>&1
echo "booth VM: $(uname -r), $(nproc) CPUs"
set -x

setup_failed() {
    echo "$*" >>/out/setup.err
    echo "booth VM: setup failed: $*" >/dev/console
}

# Modules in dependency order. vivid as a video capture node (/dev/video0, whose first input
# is the webcam), beside a video output node and a metadata capture node (/dev/video1 and 2),
# as a USB camera has a metadata node beside its picture node: booth must pass over those.
while read -r ko; do
    case "$ko" in
    vivid.ko) args="n_devs=1 node_types=0x20101" ;;
    *) args="" ;;
    esac
    # shellcheck disable=SC2086
    insmod "/modules/$ko" $args || setup_failed "insmod $ko $args"
done </modules/order
for dev in /dev/video0 /dev/video1 /dev/video2 /dev/snd/pcmC0D0p /dev/snd/pcmC0D1c /dev/vda; do
    [ -e "$dev" ] || setup_failed "$dev did not appear"
done

# Writes nothing but the device listing tools' view, for the host to compare booth against.
v4l2-ctl -d /dev/video0 --list-formats-ext >/out/v4l2-formats.txt 2>&1
v4l2-ctl -d /dev/video0 --list-ctrls-menus >/out/v4l2-ctrls.txt 2>&1
aplay -l >/out/aplay-l.txt 2>&1

# The playback side of the loopback: what is played into hw:Loopback,0,0 comes out of
# hw:Loopback,1,0. Started before booth, so the capture side takes the playback's format.
play_tone() {
    aplay -q -D hw:Loopback,0,0 "/in/$1" >"$dir/aplay.log" 2>&1 &
    player=$!
    sleep 0.5
}
stop_tone() {
    kill "$player" 2>/dev/null
    wait "$player" 2>/dev/null
}

# vivid's format state outlives the process that set it, as on a real camera: every scenario
# starts from the same one. This is the driver's power-on default (640x360 YUYV at 30 fps).
reset_camera() {
    v4l2-ctl -d /dev/video0 --set-fmt-video=width=640,height=360,pixelformat=YUYV --set-parm=30 \
        --set-ctrl=timestamp_source=0,wrap_timestamp=0 >/dev/null
}

# Seconds since boot, for timing what booth did (busybox date has no sub-second format).
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# record NAME [booth record args...]: one recording with the camera and the loopback mic.
# The driver's own account of the format booth negotiated is read 1.5 s in (driver.txt).
record() {
    name=$1
    shift
    (sleep 1.5 && v4l2-ctl -d /dev/video0 --get-fmt-video --get-parm >"$dir/driver.txt" 2>&1) &
    timeout 60 booth --log-file "$dir/booth.log" record \
        --video "${video:-v4l2:/dev/video0}" --audio alsa:hw:Loopback,1,0 \
        --output "$dir/$name.mp4" --json "$@" >"$dir/stdout" 2>"$dir/stderr"
    echo $? >"$dir/exit"
    wait $!
}

begin() {
    dir=/out/$1
    mkdir -p "$dir"
    echo "booth VM: scenario $1" >/dev/console
    reset_camera
}

# 1. booth devices --json lists vivid with its real formats.
begin devices
timeout 60 booth devices --json >"$dir/stdout" 2>"$dir/stderr"
echo $? >"$dir/exit"

# 2. YUYV 640x360 at 30 fps, with vivid's default timestamps ("End of Frame": stamped when the
#    frame is complete, slightly after the dequeue clock nokhwa compares them with).
begin yuyv360
play_tone tone-a.wav
record yuyv360 --size 640x360 --fps 30 --duration 4
stop_tone

# 3. YUYV 640x480 at 25 fps, with start-of-exposure timestamps.
begin yuyv480
v4l2-ctl -d /dev/video0 --set-ctrl=timestamp_source=1
play_tone tone-b.wav
record yuyv480 --size 640x480 --fps 25 --duration 4
stop_tone

# 4. Timestamps booth cannot use: vivid offsets them to just before the 64-bit nanosecond
#    wrap (hundreds of years ahead of the clock). booth says so once, stamps frames by arrival,
#    and stays in step with the sound.
begin badstamps
v4l2-ctl -d /dev/video0 --set-ctrl=wrap_timestamp=1
play_tone tone-a.wav
record badstamps --size 640x360 --fps 30 --duration 4
stop_tone

# 5. A format vivid cannot give: 1280x720 runs at 12.5 fps at most, so booth takes the nearest
#    fluid one and says so on stderr.
begin nearest
play_tone tone-a.wav
record nearest --size 1280x720 --fps 30 --duration 3
stop_tone

# 6. The camera left at a frame rate that is not a whole number (12.5 fps, by an earlier
#    program): booth opens it all the same and records what was asked. Asked for as the
#    default camera: the first node that captures pictures.
begin fractional
v4l2-ctl -d /dev/video0 --set-fmt-video=width=1280,height=720,pixelformat=YUYV --set-parm=12.5
v4l2-ctl -d /dev/video0 --get-fmt-video --get-parm >"$dir/info.txt" 2>&1
play_tone tone-a.wav
video=default
record fractional --size 640x360 --fps 30 --duration 3
video=
stop_tone

# 7. The camera busy: another program is streaming from it. booth names it and exits 3.
begin busy
v4l2-ctl -d /dev/video0 --stream-mmap --stream-count=100000 >/dev/null 2>"$dir/holder.err" &
holder=$!
sleep 2
echo "$holder" >"$dir/holder.pid"
play_tone tone-a.wav
record busy --size 640x360 --fps 30 --duration 3
stop_tone
kill "$holder"
wait "$holder"

# 8. The camera unplugged while recording (vivid unbound from its driver, as a USB camera
#    vanishes): booth stops, keeps what it recorded, names the device, and exits 1.
begin lost
play_tone tone-a.wav
record lost --size 640x360 --fps 30 --duration 30 &
booth_pid=$!
# Unplug once the recording has really begun (its .part file has data), plus 2 s.
i=0
while [ ! -s "$dir/lost.mp4.part" ] && [ $i -lt 200 ]; do
    sleep 0.1
    i=$((i + 1))
done
sleep 2
uptime_s >"$dir/unplugged-at"
echo vivid.0 >/sys/bus/platform/drivers/vivid/unbind
wait "$booth_pid"
uptime_s >"$dir/booth-ended-at"
stop_tone

# 9-11. The kiosk on a virtual terminal, as booth.service runs it on tty1 (the demo: a synthetic
#    camera and microphone, the sample interview). While it runs, `chvt 2` must not leave tty1;
#    once it has ended, the console must switch again. The foreground VT is read from the
#    kernel (/sys/class/tty/tty0/active), and booth's own log says when it locked and unlocked.
#
# kiosk_on_tty1 NAME [su USER]: starts the kiosk on tty1 (as USER, with `su`), waits until its
# log says what it did about VT switching, then tries `chvt 2` while it runs (chvt-during,
# vt-during). booth.pid is the kiosk's process.
kiosk_on_tty1() {
    data=/tmp/kiosk-$1
    mkdir -p "$data"
    run="TERM=linux booth run --demo --data-dir $data; echo \$? >$dir/exit"
    if [ "$2" = su ]; then
        chown "$3" "$data" "$dir"
        openvt -c 1 -w -- su "$3" -c "$run" &
    else
        openvt -c 1 -w -- sh -c "$run" &
    fi
    openvt=$!
    said="VT switching locked\|VT switching stays unlocked\|no VT switching to lock"
    i=0
    while ! grep -q "$said" "$data/logs/booth.log" 2>/dev/null && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    cat /sys/class/tty/tty0/active >"$dir/vt-before"
    # chvt asks for tty2, then waits until tty2 is in front: while locked, that is forever.
    timeout 3 chvt 2
    echo $? >"$dir/chvt-during"
    cat /sys/class/tty/tty0/active >"$dir/vt-during"
    pidof booth >"$dir/booth.pid"
}
# kiosk_ended: once the kiosk has ended, the console switches again (chvt-after, vt-after);
# then back to tty1 for what follows.
kiosk_ended() {
    wait "$openvt"
    timeout 10 chvt 2
    echo $? >"$dir/chvt-after"
    cat /sys/class/tty/tty0/active >"$dir/vt-after"
    timeout 10 chvt 1
    cp "$data/logs/booth.log" "$dir/booth.log"
}

# 9. Stopped by SIGTERM, as systemd stops booth.service.
begin vt-sigterm
kiosk_on_tty1 sigterm
kill -TERM "$(cat "$dir/booth.pid")"
kiosk_ended

# 10. Ended by the flow's own quit. An interrupt is how a kiosk without lockdown (the demo) is
#     told to quit: the flow's `terminate`, as the operator menu's Quit, then Effect::Quit.
#     Started while tty2 is in front (someone switched away during a restart): booth brings
#     its tty1 to the front before it locks.
begin vt-quit
timeout 10 chvt 2
cat /sys/class/tty/tty0/active >"$dir/vt-at-start"
kiosk_on_tty1 quit
kill -INT "$(cat "$dir/booth.pid")"
kiosk_ended

# 11. Without CAP_SYS_TTY_CONFIG (an unprivileged user, no ambient capabilities): booth says so
#     in its log and runs on, and the console still switches.
begin vt-nocap
mkdir -p /etc
echo "kiosk:x:1000:1000:kiosk:/tmp:/bin/sh" >>/etc/passwd
echo "kiosk:x:1000:" >>/etc/group
kiosk_on_tty1 nocap su kiosk
timeout 10 chvt 1
kill -TERM "$(cat "$dir/booth.pid")"
kiosk_ended

# 12. Devices that come back. The kiosk on a pseudo-terminal (util-linux script), its keys
#     typed into a FIFO, with vivid and the loopback microphone and a one-question interview
#     (/in/comeback-interview.toml). The camera is unplugged (vivid unbound) on the question
#     screen while a handle kept open here holds /dev/video0's number, so that it comes back
#     under another node; then again two seconds into the answer. booth must reopen it by
#     itself both times, keep the interrupted take, and record the next one. What booth did is
#     in its log; the takes and progress.json are brought back; `steps` says when each wait
#     ended.
# Scenario 8 left vivid unbound: bound again first (the nodes come back as video0-2).
echo vivid.0 >/sys/bus/platform/drivers/vivid/bind
begin comeback
kdata=/tmp/comeback-data
mkdir -p "$kdata"
{
    echo "[station]"
    echo "data_dir = \"$kdata\""
    echo "[devices]"
    echo "video = \"v4l2:/dev/video0\""
    echo "audio = \"alsa:hw:Loopback,1,0\""
    echo "size = \"640x360\""
    echo "fps = 30"
    echo "[recording]"
    echo "video_kbps = 400"
    echo "test_clip_seconds = 5"
    echo "[upload]"
    echo "endpoint = \"dir:/tmp/comeback-delivered\""
    echo "[interview]"
    echo "file = \"/in/comeback-interview.toml\""
    echo "[kiosk]"
    echo "lockdown = false"
    echo "idle_reset_seconds = 0"
} >/tmp/comeback.toml
# wait_log TEXT N: until booth's log (the kiosk's own, in its data folder) has N lines with
# TEXT (at most 30 s).
wait_log() {
    i=0
    while :; do
        n=$(grep -c "$1" "$kdata/logs/booth.log" 2>/dev/null)
        [ "${n:-0}" -ge "$2" ] && break
        if [ $i -ge 300 ]; then
            say_step "gave up waiting for '$1' x$2 (${n:-0})"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    say_step "'$1' x$2 after $i"
}
# Each step on the console too: a scenario that hangs shows how far it got.
say_step() {
    echo "$(uptime_s) $*" >>"$dir/steps"
    echo "booth VM: comeback: $*" >/dev/console
}
# wait_part NAME: until take NAME is being written (its .part has data), at most 30 s.
wait_part() {
    i=0
    while :; do
        part=$(ls "$kdata"/sessions/*/"$1.part" 2>/dev/null | head -n 1)
        [ -n "$part" ] && [ -s "$part" ] && break
        if [ $i -ge 300 ]; then
            say_step "gave up waiting for $1.part"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    say_step "$1.part after $i"
}
key() { printf "$1" >&4; }
touch /tmp/tone-on
(while [ -e /tmp/tone-on ]; do aplay -q -D hw:Loopback,0,0 /in/tone-a.wav; done) >"$dir/aplay.log" 2>&1 &
tone_loop=$!
sleep 0.5
# script needs pseudo-terminals.
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mkfifo /tmp/keys
exec 4<>/tmp/keys
TERM=linux script -q -c "stty rows 24 cols 80; booth run --config /tmp/comeback.toml; echo \$? >$dir/exit" /dev/null </tmp/keys >/dev/null 2>"$dir/stderr" &
kiosk=$!
comeback_steps() {
    wait_log "VT switching\|no VT" 1 || return
    # Welcome (no code: Enter on the empty field), then the overview.
    key '\r'
    sleep 1
    key '\r'
    wait_log "devices open" 1 || return
    # The device-test clip (5 s), then on past its checks to the question.
    key '\r'
    wait_log "recording saved" 1 || return
    key c
    key '\r'
    sleep 1
    # Unplugged on the question screen, /dev/video0's number held.
    exec 5</dev/video0
    uptime_s >"$dir/unplugged-1"
    echo vivid.0 >/sys/bus/platform/drivers/vivid/unbind
    wait_log "a device was lost" 1 || return
    wait_log "the device is not back yet" 2 || return
    ls /dev/video* >"$dir/nodes-away" 2>&1
    echo vivid.0 >/sys/bus/platform/drivers/vivid/bind
    ls /dev/video* >"$dir/nodes-back" 2>&1
    wait_log "devices open" 2 || return
    exec 5<&-
    # The answer, unplugged two seconds in.
    key '\r'
    wait_part q1-take1.mp4 || return
    sleep 2
    uptime_s >"$dir/unplugged-2"
    echo vivid.0 >/sys/bus/platform/drivers/vivid/unbind
    wait_log "a device was lost" 2 || return
    wait_log "recording cut short by a device" 1 || return
    sleep 1
    echo vivid.0 >/sys/bus/platform/drivers/vivid/bind
    wait_log "devices open" 3 || return
    # The interrupted take as it stands (recording again replaces it).
    cp "$kdata"/sessions/*/q1-take1.mp4 "$dir/"
    cp "$kdata"/sessions/*/progress.json "$dir/progress-interrupted.json"
    # Record again: the next take, stopped by the candidate after two seconds.
    key r
    key '\r'
    wait_part q1-take2.mp4 || return
    sleep 2
    key '\r'
    wait_log "recording saved" 2 || return
}
comeback_steps
kill -TERM "$(pidof booth)"
wait "$kiosk"
exec 4>&-
rm -f /tmp/tone-on
kill "$(pidof aplay)" 2>/dev/null
wait "$tone_loop"
cp "$kdata"/logs/booth.log "$kdata"/sessions/*/q1-take2.mp4 "$kdata"/sessions/*/progress.json "$dir/" 2>>"$dir/steps"

dmesg >/out/dmesg.txt
touch /out/done
set +x
echo "booth VM: writing results" >/dev/console
tar -cf /dev/vda -C /out . || echo "booth VM: cannot write the results disk" >/dev/console
sync
poweroff -f
