// Sound and desktop notifications for new messages, as each member chooses in this browser.

const KEY = "inbox.notify";

export interface NotifyOptions {
  sound: boolean;
  desktop: boolean;
}

export function readNotifyOptions(): NotifyOptions {
  try {
    const read = JSON.parse(window.localStorage.getItem(KEY) ?? "{}");
    return { sound: read.sound !== false, desktop: read.desktop === true };
  } catch {
    return { sound: true, desktop: false };
  }
}

export function saveNotifyOptions(options: NotifyOptions): void {
  window.localStorage.setItem(KEY, JSON.stringify(options));
}

let audio: AudioContext | null = null;

/** A short two-tone chime, synthesised so the inbox ships no sound file. */
export function chime(): void {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    [880, 1320].forEach((frequency, index) => {
      const tone = audio!.createOscillator();
      const gain = audio!.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, now + index * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.001, now + index * 0.12 + 0.25);
      tone.connect(gain).connect(audio!.destination);
      tone.start(now + index * 0.12);
      tone.stop(now + index * 0.12 + 0.3);
    });
  } catch {
    // A browser without audio simply stays silent.
  }
}

export function desktopNotify(title: string, body: string): void {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  new Notification(title, { body, tag: "inbox" });
}
