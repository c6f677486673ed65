// Click-to-play videos: nothing is requested from the video's provider until the
// reader presses play; then the provider's player takes the button's place.
document.querySelectorAll(".video-frame[data-player]").forEach((frame) => {
  const button = frame.querySelector(".video-play");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const player = document.createElement("iframe");
    player.src = frame.dataset.player;
    player.title = frame.dataset.title || "影片";
    player.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    player.allowFullscreen = true;
    player.referrerPolicy = "strict-origin-when-cross-origin";
    frame.replaceChildren(player);
    player.focus();
  });
});
