import { ref, watchEffect } from "vue";
import { locale } from "../shared/i18n";

// Elderly mode: larger text and high contrast (a class on <html>, see style.css), and each
// question, and the verdict and explanation after it, read aloud on a tap with the browser's own
// speech synthesis.

export const elderly = ref(localStorage.getItem("quiz.elderly") === "1");

watchEffect(() => {
  document.documentElement.classList.toggle("elderly", elderly.value);
  localStorage.setItem("quiz.elderly", elderly.value ? "1" : "0");
});

export function canSpeak(): boolean {
  return typeof window.speechSynthesis !== "undefined" && typeof window.SpeechSynthesisUtterance !== "undefined";
}

/** Set when the phone has no voice for the language of a text it was asked to read (that part stays unread). */
export const missingVoice = ref<"zh-CN" | "en-US" | null>(null);

function voiceFor(lang: string): SpeechSynthesisVoice | undefined {
  const voices = window.speechSynthesis.getVoices();
  const prefix = lang.slice(0, 2);
  return voices.find(v => v.lang.replace("_", "-") === lang) ?? voices.find(v => v.lang.toLowerCase().startsWith(prefix));
}

const han = /\p{Script=Han}/u;

/**
 * The language a text is read in: its own, not the interface's. The question bank is Chinese even
 * when the page is in English, and an English voice reading Chinese is noise.
 */
export function languageOf(text: string): "zh-CN" | "en-US" {
  if (han.test(text)) return "zh-CN";
  return locale.value === "en" ? "en-US" : "zh-CN";
}

/**
 * Reads the parts one after another, each in its own language (neighbours in the same language are
 * read as one utterance). Parts in a language the phone has no voice for are left out, and
 * `missingVoice` says which.
 */
export function speak(...parts: (string | null | undefined)[]) {
  if (!canSpeak()) return;
  const synth = window.speechSynthesis;
  synth.cancel();
  missingVoice.value = null;
  const runs: { lang: "zh-CN" | "en-US"; text: string }[] = [];
  for (const part of parts) {
    const text = part?.trim();
    if (!text) continue;
    const lang = languageOf(text);
    const last = runs[runs.length - 1];
    if (last && last.lang === lang) last.text += lang === "zh-CN" ? `。${text}` : `. ${text}`;
    else runs.push({ lang, text });
  }
  // The voices load late on some phones: with none listed yet, trust the lang alone.
  const voicesKnown = synth.getVoices().length > 0;
  for (const run of runs) {
    const voice = voiceFor(run.lang);
    if (voicesKnown && !voice) {
      missingVoice.value = run.lang;
      continue;
    }
    const utterance = new SpeechSynthesisUtterance(run.text);
    utterance.lang = run.lang;
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9; // a little slower than usual, for older listeners
    synth.speak(utterance);
  }
}
