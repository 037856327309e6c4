import { ref, watchEffect } from "vue";
import { locale } from "../shared/i18n";

// Elderly mode: larger text and high contrast (a class on <html>, see style.css), and each
// question read aloud on a tap with the browser's own speech synthesis.

export const elderly = ref(localStorage.getItem("quiz.elderly") === "1");

watchEffect(() => {
  document.documentElement.classList.toggle("elderly", elderly.value);
  localStorage.setItem("quiz.elderly", elderly.value ? "1" : "0");
});

export function canSpeak(): boolean {
  return typeof window.speechSynthesis !== "undefined" && typeof window.SpeechSynthesisUtterance !== "undefined";
}

function voiceFor(lang: string): SpeechSynthesisVoice | undefined {
  const voices = window.speechSynthesis.getVoices();
  const prefix = lang.slice(0, 2);
  return voices.find(v => v.lang.replace("_", "-") === lang) ?? voices.find(v => v.lang.toLowerCase().startsWith(prefix));
}

export function speak(text: string) {
  if (!canSpeak()) return;
  const synth = window.speechSynthesis;
  synth.cancel();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = locale.value === "en" ? "en-US" : "zh-CN";
  const voice = voiceFor(utterance.lang);
  if (voice) utterance.voice = voice;
  utterance.rate = 0.9; // a little slower than usual, for older listeners
  synth.speak(utterance);
}
