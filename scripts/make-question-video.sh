#!/usr/bin/env bash
# Makes assets/question-2.mp4, the sample interview's video question: a title card with the
# question read aloud by espeak-ng, encoded by booth itself (so it is exactly the kind of
# MP4 booth plays): 640x360, 25 fps, H.264 at 300 kb/s, 48 kHz mono AAC at 64 kb/s. Run once by
# hand when the question changes; the result is committed. README "Question videos" says what
# booth accepts (checked when an interview is loaded and by booth doctor).
# Needs: espeak-ng, ffmpeg (with drawtext), fonts-dejavu-core, and a built booth.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
text="A customer has been waiting a week for a refund, and has just called for the third time. \
What would you say to them, and what would you do after the call?"
espeak-ng -v en-gb -s 150 -w "$work/speech.wav" "$text"
ffmpeg -v error -i "$work/speech.wav" -af "apad=pad_dur=1,adelay=700:all=1" -ar 48000 -ac 1 \
  -c:a pcm_s16le "$work/voice.wav"
seconds=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/voice.wav")
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
ffmpeg -v error -f lavfi -i "color=c=0x1d3557:size=640x360:rate=25:duration=$seconds" \
  -vf "drawtext=fontfile=$font:text='Question 2':fontcolor=white:fontsize=40:x=(w-tw)/2:y=110,\
drawtext=fontfile=$font:text='A customer is still waiting for a refund':fontcolor=0xf1faee:fontsize=24:x=(w-tw)/2:y=180,\
drawtext=fontfile=$font:text='%{pts\:hms}':fontcolor=0xa8dadc:fontsize=18:x=(w-tw)/2:y=300" \
  -pix_fmt yuv420p "$work/card.y4m"
cargo run --quiet -- record --video "file:$work/card.y4m" --audio "file:$work/voice.wav" \
  --pace none --video-kbps 300 --audio-kbps 64 --output assets/question-2.mp4
ffprobe -hide_banner assets/question-2.mp4
